"""What publishes stored reports: tables, ratings, figures, labels, the site, merged tables
and the campaign's batch summary. No run executes it."""
