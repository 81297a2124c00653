"""Cache-aware routing across real nodes (issue 14): the turns of a conversation sent through
any node reach the node holding its prefix, and the conversations spread evenly.

Usage: cache_routing_test.py NODE_BIN MKMODEL_BIN TINY_MODEL [unittest args]
Three nodes serve one model with 4 slots each; 12 conversations of 10 turns run at once, each
turn sent to another entry node in turn. Prints the figures it checks.
"""
import sys
import threading
import time
import unittest
from collections import Counter

from swarm_harness import Harness, http, wait_until

CONVERSATIONS = 12
TURNS = 10


def served_by(headers):
    return headers.get("X-LlamaNet-Node") or headers.get("x-llamanet-node")


class CacheRoutingTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness(*ARGS)
        model = self.h.model("chat", 5)
        extra = ["--parallel", "4", "--n-ctx", "1024"]
        boot = self.h.node("c1", model, extra=extra).start()
        self.nodes = [boot] + [self.h.node(n, model, bootstrap=[boot.dht_address], extra=extra).start()
                               for n in ("c2", "c3")]
        everyone = {"c1", "c2", "c3"}
        self.assertTrue(wait_until(lambda: all(n.node_ids() == everyone for n in self.nodes), timeout=20),
                        "nodes never saw each other")

    def tearDown(self):
        self.h.close()

    def converse(self, c, log, errors):
        messages = [{"role": "system", "content": "You are helper %d." % c},
                    {"role": "user", "content": "Conversation %d: tell me something about the number %d." % (c, c * 13)}]
        for turn in range(TURNS):
            entry = self.nodes[(c + turn) % len(self.nodes)]
            status, headers, body = http("POST", entry.url + "/v1/chat/completions",
                                         {"model": "chat", "messages": messages, "max_tokens": 16,
                                          "temperature": 0}, timeout=120)
            if status != 200:
                errors.append("conversation %d turn %d: %s %s" % (c, turn, status, body))
                return
            cached = body["usage"]["prompt_tokens_details"]["cached_tokens"]
            log.append((c, turn, served_by(headers), cached, body["usage"]["prompt_tokens"]))
            messages.append({"role": "assistant", "content": body["choices"][0]["message"]["content"]})
            messages.append({"role": "user", "content": "Turn %d: and then?" % (turn + 1)})

    def test_turns_follow_their_prefix_and_spread_evenly(self):
        log, errors = [], []
        threads = [threading.Thread(target=self.converse, args=(c, log, errors)) for c in range(CONVERSATIONS)]
        for t in threads:
            t.start()
            # Users do not all start in the same millisecond: each new conversation then finds
            # the others placed (GET /cache counts them), not a race of twelve equal answers.
            time.sleep(0.05)
        for t in threads:
            t.join(timeout=600)
        self.assertEqual(errors, [])
        self.assertEqual(len(log), CONVERSATIONS * TURNS)

        by_turn = {(c, turn): (node, cached) for c, turn, node, cached, _ in log}
        later = [(c, turn) for c in range(CONVERSATIONS) for turn in range(1, TURNS)]
        followed = sum(1 for c, turn in later if by_turn[(c, turn)][0] == by_turn[(c, turn - 1)][0]
                       and by_turn[(c, turn)][1] > 0)
        share = Counter(node for _, _, node, _, _ in log)
        cached_share = sum(cached for *_, cached, _ in log) / max(1, sum(p for *_, p in log))
        print("turns 2-%d served where the prefix was: %d of %d (%.1f%%)" % (TURNS, followed, len(later),
                                                                          100.0 * followed / len(later)))
        print("turns per node: %s; prompt tokens served from cache: %.1f%%" % (dict(share), 100 * cached_share))
        self.assertGreaterEqual(followed, 0.9 * len(later))
        self.assertEqual(len(share), 3, "every node serves some turns")
        self.assertLessEqual(max(share.values()), 1.5 * min(share.values()), dict(share))

        # What a node says of a conversation: GET /cache.
        status, _, body = http("GET", self.nodes[0].url + "/cache?conversation=00000000000000zz")
        self.assertEqual(status, 400)
        self.assertIn("detail", body)
        held = {}
        for n in self.nodes:
            status, _, body = http("GET", n.url + "/cache?conversation=0123456789abcdef")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["cached_tokens"], 0)
            self.assertEqual(body["node_id"], n.name)
            status, _, body = http("GET", n.url + "/status")
            held[n.name] = body["prefix_cache"]["hits"]
        self.assertGreater(sum(held.values()), 0.9 * len(later))


if __name__ == "__main__":
    ARGS = sys.argv[1:4]
    unittest.main(argv=[sys.argv[0]] + sys.argv[4:], verbosity=2)
