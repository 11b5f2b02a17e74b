-- Pulls through a vendor's API (`muster ingest --from`) resume from a cursor (a start time, a
-- watermark) rather than a byte offset. It is written with the batch it follows, in the same
-- transaction, so a pull resumes exactly after its last committed page.
ALTER TABLE ingest_batches ADD COLUMN cursor TEXT;
