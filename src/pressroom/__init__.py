"""Pressroom: users, sign-in, roles, posts and tags over REST and GraphQL from one service layer."""

__version__ = "0.1.0"
