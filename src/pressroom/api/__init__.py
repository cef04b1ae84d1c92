"""What every REST and GraphQL door shares: the FastAPI glue between a request and the services."""
