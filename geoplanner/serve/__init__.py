"""``geoplanner serve``: a scenario explorer in the browser, over the same engine as the command line.

:mod:`~geoplanner.serve.state` loads network, need, demand and service sets once and keeps each browser's session;
:mod:`~geoplanner.serve.jobs` evaluates off the request thread in a bounded pool, a newer request of a session
cancelling the older; :mod:`~geoplanner.serve.edit` applies an edit as a scenario file would say it;
:mod:`~geoplanner.serve.layers` and :mod:`~geoplanner.serve.views` make what the page shows;
:mod:`~geoplanner.serve.app` is the FastAPI application and :mod:`~geoplanner.serve.server` starts it.
The page (``static/``) is plain HTML and JavaScript over the pinned Leaflet files: no CDN, no build step.
"""
