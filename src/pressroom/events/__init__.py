"""Events (docs/webhooks.md): what changed, recorded in the change's own transaction."""
