"""Several bot processes on one PostgreSQL database, coordinated through the database alone.

Each process runs its own gateway shards (`[discord] shard_ids`) and so owns the guilds on them.
A feed's poll is claimed by pushing the feed's next poll forward by the lease (one conditional
UPDATE, `FOR UPDATE SKIP LOCKED`), so each feed is polled once per interval; a channel's posts
and a request's notices are claimed in the `leases` table by the process that owns the guild;
one-off work (migrations, command registration, recovery) runs under an advisory lock; a
process that delivers work owed elsewhere tells the others with NOTIFY. SQLite serves one
process (bot/storage/single_process.py), so there all of this is the identity.
"""
