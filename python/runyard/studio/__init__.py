"""The workspace server: one workspace's run history and run files over HTTP.

``runyard server`` starts it; ``Workspace.get("http://host:port")`` talks to it.
Importing this package does not import FastAPI; ``studio.server`` does.
"""
