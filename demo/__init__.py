"""The demo: a realistic, deterministic Tokyo-area week that ``make run`` shows.

What it shows: a coordinator's coming week (partner companies with crews,
buildings in the 23 wards and the nearby cities, surveys and permissions
gating jobs, finished and unfinished field work) and a support desk with
history (as-built notes to read, a few weeks of calls). ``manage.py seed_demo``
builds it; the tests rebuild exactly the same data from the same seed.

Why an app of its own: demo data is not part of any domain. It writes through
the models of ``sites``, ``dispatch`` and ``support``, so it sits above them,
and none of them imports it.

- :mod:`demo.places`, :mod:`demo.data`: the reference tables (areas, towns,
  companies, names, stories), data only;
- :mod:`demo.build`: the builder of the delivery data;
- :mod:`demo.support`: the support desk's part (search index, calls);
- ``demo/management/commands/seed_demo.py``: the command.
"""
