-- Where each partition of a stream's input resumes, written in the same transaction as the
-- rows its records produced. Kafka's committed offsets can run ahead of what is durable
-- (a worker killed between the commit and the write, or a commit passing over a record
-- the stream dropped); these cannot, so the stream seeks to them when it takes a partition.
CREATE TABLE stream_offsets (
    consumer_group text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
