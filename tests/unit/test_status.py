"""status: Azure ML SDK v1's run status names."""

from runyard import status as st


def test_status_names_are_azure_mls():
    assert st.ALL == ("NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing",
                      "CancelRequested", "Completed", "Failed", "Canceled")
    assert st.TERMINAL == {"Completed", "Failed", "Canceled"}
    assert st.ACTIVE == set(st.ALL) - {"Completed", "Failed", "Canceled"}
    assert [st.is_terminal(s) for s in st.ALL] == [False] * 7 + [True] * 3
