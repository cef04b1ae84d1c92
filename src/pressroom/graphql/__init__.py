"""The GraphQL door (`/graphql`): the seed's schema over the same services as REST."""
