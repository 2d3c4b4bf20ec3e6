"""The life of an order above the domain apps: what an order needs before it can be
built (``orders``), handing a finished line over to operations and billing
(``handover``), and spreadsheets in and out (``imports``).

Each of these reads and writes both buildings and contracts (``sites``) and jobs
(``dispatch``), so it lives above both: the two domain apps never import it.
"""
