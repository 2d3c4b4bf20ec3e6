"""Before and at line opening: IP pools and addresses, billing set-up, handover."""
