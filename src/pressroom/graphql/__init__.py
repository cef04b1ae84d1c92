"""The GraphQL door (`/graphql`): schema.graphql served over the same services as REST."""
