"""Telegram's flood limits as token buckets, driven by a clock the test moves by hand."""

from __future__ import annotations

import pytest

from sandbox.errors import TelegramError
from sandbox.limits import RateLimited, RateLimiter
from sandbox.settings import RateLimits

BOT = 1001
ANN = 5001
GROUP = -1002001


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


def limiter(clock: FakeMonotonic, **changes: object) -> RateLimiter:
    config = RateLimits()
    for key, value in changes.items():
        setattr(config, key, value)
    return RateLimiter(config, clock)


def send(rates: RateLimiter, chat_id: int = ANN, *, group: bool = False, count: int = 1) -> None:
    rates.take_messages(bot_id=BOT, chat_id=chat_id, is_group=group, count=count)


def refusal(rates: RateLimiter, chat_id: int = ANN, *, group: bool = False, count: int = 1) -> int:
    """Send and expect Telegram's 429; answer its retry_after."""
    with pytest.raises(TelegramError) as caught:
        send(rates, chat_id, group=group, count=count)
    error = caught.value
    assert error.code == 429
    assert error.description == f"Too Many Requests: retry after {error.retry_after}"
    assert error.body()["parameters"] == {"retry_after": error.retry_after}
    assert error.retry_after is not None
    return error.retry_after


def test_a_private_chat_takes_a_burst_of_three_then_refuses(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    for _ in range(3):
        send(rates)
    assert refusal(rates) == 1


def test_retry_after_is_the_wait_rounded_up(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_per_sec=0.4, chat_burst=1)
    send(rates)
    # One message is missing at 0.4 per second: 2.5 s, said as 3.
    assert refusal(rates) == 3
    clock.advance(2.0)
    # 0.2 of a message is still missing: 0.5 s, said as 1 (never 0).
    assert refusal(rates) == 1


def test_the_bucket_refills_with_time(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    for _ in range(3):
        send(rates)
    clock.advance(0.5)
    refusal(rates)
    clock.advance(0.5)
    send(rates)
    refusal(rates)
    clock.advance(60)
    # Refilling stops at the burst: a minute of quiet buys three messages, not sixty.
    for _ in range(3):
        send(rates)
    refusal(rates)


def test_chats_have_separate_buckets_but_share_the_bots(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_burst=100)
    for chat_id in range(1, 31):
        send(rates, chat_id)
    # Thirty a second across all chats; a new chat does not help.
    assert refusal(rates, 31) == 1
    clock.advance(1)
    send(rates, 31)


def test_a_group_takes_twenty_a_minute(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_burst=100)
    for _ in range(20):
        send(rates, GROUP, group=True)
    # 20 a minute is one every 3 s.
    assert refusal(rates, GROUP, group=True) == 3
    clock.advance(3)
    send(rates, GROUP, group=True)
    refusal(rates, GROUP, group=True)


def test_the_group_limit_does_not_apply_to_private_chats(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_burst=100)
    # A group would refuse the 21st of these.
    for _ in range(25):
        send(rates, ANN)
    clock.advance(1)  # the bot's own bucket fills up again
    for _ in range(20):
        send(rates, GROUP, group=True)
    refusal(rates, GROUP, group=True)
    send(rates, ANN)


def test_an_album_counts_as_many_messages(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_burst=100)
    send(rates, GROUP, group=True, count=10)
    send(rates, GROUP, group=True, count=10)
    assert refusal(rates, GROUP, group=True) == 3
    # The bot's bucket counted the albums too: 20 of 30 are used.
    for chat_id in range(1, 11):
        send(rates, chat_id)
    refusal(rates, 11)


def test_an_album_larger_than_the_chat_burst_still_goes_out(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    send(rates, count=10)


def test_an_album_that_does_not_fit_is_refused_whole(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_burst=100, group_burst=20)
    send(rates, GROUP, group=True, count=15)
    # 5 left in the group's bucket: an album of 10 waits for 5 more, 15 s at 20/min.
    assert refusal(rates, GROUP, group=True, count=10) == 15
    for _ in range(5):
        send(rates, GROUP, group=True)


def test_a_refusal_consumes_nothing(clock: FakeMonotonic) -> None:
    rates = limiter(clock, bot_burst=5)
    for _ in range(3):
        send(rates, ANN)
    for _ in range(5):
        refusal(rates, ANN)
    # Had the refusals taken from the bot's bucket, nothing would be left for others.
    send(rates, 2)
    send(rates, 3)
    refusal(rates, 4)


def test_topic_creation_takes_a_burst_of_five_then_twenty_a_minute(
    clock: FakeMonotonic,
) -> None:
    rates = limiter(clock)
    for _ in range(5):
        rates.take_topic(bot_id=BOT, chat_id=GROUP)
    with pytest.raises(TelegramError) as caught:
        rates.take_topic(bot_id=BOT, chat_id=GROUP)
    assert (caught.value.code, caught.value.retry_after) == (429, 3)
    clock.advance(3)
    rates.take_topic(bot_id=BOT, chat_id=GROUP)
    # Topics have their own bucket: messages are not held back by them.
    send(rates, GROUP, group=True)


def test_disabled_limits_never_refuse(clock: FakeMonotonic) -> None:
    rates = limiter(clock, enabled=False)
    for _ in range(1000):
        send(rates, GROUP, group=True, count=10)
        rates.take_topic(bot_id=BOT, chat_id=GROUP)


def test_switching_limits_on_and_off_reads_the_live_config(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    for _ in range(3):
        send(rates)
    refusal(rates)
    rates.config.enabled = False
    send(rates)
    rates.config.enabled = True
    refusal(rates)


def test_reset_forgets_every_bucket(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    for _ in range(3):
        send(rates)
    refusal(rates)
    rates.reset()
    send(rates)


def test_a_zero_rate_refuses_instead_of_crashing(clock: FakeMonotonic) -> None:
    rates = limiter(clock, chat_per_sec=0.0, chat_burst=1)
    send(rates)
    assert refusal(rates) >= 1


def test_an_album_does_not_jump_an_empty_chat_bucket(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    for _ in range(3):
        send(rates)
    refusal(rates, count=4)


def test_a_message_right_after_an_album_waits(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    send(rates, count=5)
    refusal(rates)


def limit_of(rates: RateLimiter, chat_id: int = ANN, *, group: bool = False) -> str:
    """Send and expect a 429 from a limit; answer which limit refused."""
    with pytest.raises(RateLimited) as caught:
        send(rates, chat_id, group=group)
    return caught.value.limit


def test_a_refusal_names_the_limit_that_refused(clock: FakeMonotonic) -> None:
    rates = limiter(clock)
    for _ in range(3):
        send(rates)
    assert limit_of(rates) == "chat"
    group_only = limiter(clock, chat_per_sec=100.0, chat_burst=100)
    for _ in range(20):
        send(group_only, GROUP, group=True)
    assert limit_of(group_only, GROUP, group=True) == "group"
    bot_only = limiter(clock, bot_per_sec=0.5, bot_burst=2)
    send(bot_only, ANN)
    send(bot_only, ANN + 1)
    assert limit_of(bot_only, ANN + 2) == "bot"
    topics = limiter(clock, topic_burst=1)
    topics.take_topic(bot_id=BOT, chat_id=GROUP)
    with pytest.raises(RateLimited) as caught:
        topics.take_topic(bot_id=BOT, chat_id=GROUP)
    assert caught.value.limit == "topic"


def test_the_longest_wait_names_the_limit(clock: FakeMonotonic) -> None:
    """A group send that overruns both the chat (1 s) and the group (3 s) bucket is
    refused for the group: that is the wait it reports."""
    rates = limiter(clock, chat_burst=20)
    for _ in range(20):
        send(rates, GROUP, group=True)
    with pytest.raises(RateLimited) as caught:
        send(rates, GROUP, group=True)
    assert (caught.value.limit, caught.value.retry_after) == ("group", 3)


@pytest.mark.parametrize(("scale", "group_wait"), [(1.0, 3), (10.0, 1)])
def test_scale_multiplies_every_rate_but_not_the_bursts(
    clock: FakeMonotonic, scale: float, group_wait: int
) -> None:
    rates = limiter(clock, scale=scale, chat_per_sec=100.0, chat_burst=100)
    for _ in range(20):  # the group burst is 20 at any scale
        send(rates, GROUP, group=True)
    assert limit_of(rates, GROUP, group=True) == "group"
    clock.advance(3.01 / scale)  # one token back: 20/min, or 200/min at scale 10
    send(rates, GROUP, group=True)
    assert refusal(rates, GROUP, group=True) == group_wait  # at least 1 s when scaled
    private = limiter(clock, scale=scale)
    for _ in range(3):  # the chat burst is 3 at any scale
        send(private)
    assert limit_of(private) == "chat"
    clock.advance(1.01 / scale)  # 1 a second, or 10 at scale 10
    send(private)
    assert limit_of(private) == "chat"
