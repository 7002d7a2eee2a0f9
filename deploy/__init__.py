"""Ways to run Switchboard: on one machine (local/) and on Kubernetes (k8s/)."""
