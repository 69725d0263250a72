"""The process around the requests: start-up and shut-down, draining, periodic jobs.

lifecycle (what starts and stops beside the requests; imported by the ASGI application only),
draining (after SIGTERM: readiness off, open streams end with a retry hint), periodic (a job
run every few seconds in the background).

draining and periodic may import only wire and redact; lifecycle may import anything.
"""
