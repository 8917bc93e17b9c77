"""What retention may delete, without a database: episodes, holds, and the gaps between
the reach of kept alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zones.retention import Gap, StoredAlert, due_episodes, episodes, gaps, kept_windows

T = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def alert(id: int, at: float, merged_into: int | None = None, touched: float | None = None,
          closed: bool = True) -> StoredAlert:  # fmt: skip
    return StoredAlert(
        id, merged_into, T + at * H, T + (at + 1) * H if closed else None,
        T + (at + 1 if touched is None else touched) * H,
    )  # fmt: skip


def test_merged_stays_go_with_the_stay_they_were_merged_into_even_in_steps() -> None:
    groups = episodes([alert(1, 0), alert(2, 1, merged_into=3), alert(3, 2, merged_into=1),
                       alert(4, 9)])  # fmt: skip
    assert sorted([m.id for m in g] for g in groups) == [[1, 2, 3], [4]]
    assert all(g[0].merged_into is None for g in groups)  # the surviving stay first


def test_an_episode_is_due_when_every_stay_in_it_ended_and_was_handled_before_the_cut() -> None:
    cut = T + 10 * H
    stored = [
        alert(1, 0), alert(2, 1, merged_into=1),  # due together
        alert(3, 2), alert(4, 3, merged_into=3, touched=12),  # handled after the cut
        alert(5, 4, closed=False, touched=5),  # still open
        alert(6, 5),  # due, but held
    ]  # fmt: skip
    due, kept_for_hold = due_episodes(stored, held={6}, before=cut)
    assert [[m.id for m in g] for g in due] == [[1, 2]]
    assert kept_for_hold == 1


def test_positions_outside_the_reach_of_every_kept_alert_are_in_the_gaps() -> None:
    windows = kept_windows([alert(1, 2), alert(2, 3.5), alert(3, 20, closed=False)], H, T + 30 * H)
    assert windows[2] == (T + 19 * H, T + 31 * H)  # an open stay reaches now
    assert gaps(windows, before=T + 24 * H) == [
        Gap(None, T + 1 * H),  # before the first alert's reach
        Gap(T + 5.5 * H, T + 19 * H),  # the first two overlap: one window
    ]
    assert gaps([], before=T) == [Gap(None, T)]
    assert gaps(windows[:1], before=T + 30 * H)[-1] == Gap(T + 4 * H, T + 30 * H)
