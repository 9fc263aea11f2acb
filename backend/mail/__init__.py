"""The e-mail outbox: mail is written in the sender's transaction, then delivered by a job."""
