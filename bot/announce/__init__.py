"""Announcing episodes: what to post where (plan), how it looks (render), storage and delivery."""
