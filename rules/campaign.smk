# At the end of a workflow run, a summary of the batch (docs/aes.md): models run,
# succeeded, failed with causes, up to date; on screen and in logs/batch_summary.txt.
import time

WORKFLOW_STARTED_AT = time.time()


def print_batch_summary():
    # Imported here: it reads reports (numpy and all), which no plan needs.
    from energybench.publish.campaign import write_batch_summary

    reports = {
        model: f"{RESULTS}/runs/{model}/benchmark_report.json" for model in MODELS
    }
    summary = write_batch_summary(
        reports, WORKFLOW_STARTED_AT, "logs/batch_summary.txt"
    )
    print(summary, file=sys.stderr)


onsuccess:
    print_batch_summary()


onerror:
    print_batch_summary()
