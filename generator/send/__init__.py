"""Handing each student their own files: what goes out (the outbox, shared by every way
of sending), e-mail through SMTP, and the log that lets a send resume without sending
anything twice."""
