"""Asyncio plumbing every layer shares: supervised tasks and the clock seam."""
