"""The support console: server-rendered pages at /console for agents to find and act on orders.

Plain HTML forms and Jinja2 templates, no JavaScript: it works in any browser and needs nothing
downloaded at run time. Every action goes through `api.support_service`, like the JSON API's.
"""
