"""How well and how fast plain words are understood (rules/intent.py).

    python -m benchmarks.intent

Trains the classifier on the training part of rules/intent_examples.tsv, with the keyword lists of the
message catalogues, and prints its accuracy on the held-out part (the same split every run), the held-out
examples it gets wrong, how long training took and the microseconds per message of a prediction (median of
five passes over the held-out part).
"""

from __future__ import annotations

import statistics
import time

from core.i18n import Catalogues
from handlers.plain_words import keywords_of
from rules import intent as intents

PASSES = 5


def main() -> None:
    """Print the figures."""
    keywords = keywords_of(Catalogues())
    train_part, held_out = intents.split(intents.read_examples())
    started = time.perf_counter()
    model = intents.train(train_part, keywords)
    training_ms = (time.perf_counter() - started) * 1000
    for example in held_out:
        if (predicted := model.predict(example.text)) is not example.intent:
            print(f"  wrong: {example.intent.value} read as {predicted.value}: {example.text}")
    per_message = []
    for _ in range(PASSES):
        started = time.perf_counter()
        for example in held_out:
            model.predict(example.text)
        per_message.append((time.perf_counter() - started) / len(held_out) * 1e6)
    right = round(intents.accuracy(model, held_out) * len(held_out))
    print(
        f"intent: {right}/{len(held_out)} held-out right ({right / len(held_out):.1%}), "
        f"trained on {len(train_part)} in {training_ms:.0f} ms, "
        f"{statistics.median(per_message):.0f} µs per message"
    )


if __name__ == "__main__":
    main()
