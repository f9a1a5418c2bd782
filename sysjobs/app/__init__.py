"""The app that scripts run in: entities, records, actions, listeners, users, files,
endpoints — and the 11 public job types that act on them.

Typical wiring (what :class:`sysjobs.host.Host` does)::

    from sysjobs.app.app import App
    from sysjobs.app.definition import load_app
    from sysjobs.app.jobtypes import register_app_job_types

    definition = load_app("path/to/app")
    engine = Engine.open(url, settings=EngineSettings(app=definition.name))
    app = App.open(engine, definition)   # or App.open(engine): the demo app
    register_app_job_types(engine, app)

The app's rows are those of the engine's app key (``engine.app``; docs/many-apps.md).

The app imports only ``jobs``, ``store`` and ``errors``; scripts reach it through
``sysjobs.bindings.data`` and run through the engine's ``ScriptRunner`` seam.
"""
