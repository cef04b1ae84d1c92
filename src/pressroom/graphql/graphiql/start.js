// Starts GraphiQL on the page Pressroom serves at GET /graphql. A file rather than an inline
// script, so the page's Content-Security-Policy can allow this server's scripts and no other.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") });
  var example = [
    "# Pressroom's GraphQL API. Run a query with Ctrl-Enter or the run button.",
    "# As a signed-in user: get an accessToken from the login mutation",
    "# (or POST /api/v1/auth/login) and set, under Headers below,",
    '#   {"Authorization": "Bearer <accessToken>"}',
    "",
    "query LatestPosts {",
    "  posts(first: 5) {",
    "    totalCount",
    "    edges {",
    "      node {",
    "        id",
    "        title",
    "        publishedAt",
    "        tags { name slug }",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: example,
      defaultEditorToolsVisibility: true,
      // Tokens typed under Headers stay in this tab, never in the browser's storage.
      shouldPersistHeaders: false,
    })
  );
})();
