"""The `llamanet` command line: usage errors, exit codes, and every command against two real
nodes on 127.0.0.1 (started and stopped by PID through tests/swarm/swarm_harness.py).

Usage: cli_test.py LLAMANET_CLI NODE_BIN TINY_MODEL [unittest args]
"""
import json
import os
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "swarm"))
from swarm_harness import Harness, free_port, http, wait_until  # noqa: E402

CLI, NODE_BIN, MODEL = sys.argv[1:4]


def run(*args, stdin=None, env=None, timeout=60):
    full_env = dict(os.environ)
    full_env.pop("BOOTSTRAP_NODES", None)
    full_env.update(env or {})
    p = subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class UsageTest(unittest.TestCase):
    def test_bad_usage_is_exit_2(self):
        for args in ([], ["frobnicate"], ["generate", "--max-tokens", "zero", "hi"], ["nodes", "--no-such-flag"],
                     ["generate", "--watch", "hi"], ["status"], ["generate", "a", "b"], ["generate", "hi"]):
            code, _, err = run(*args)
            self.assertEqual(code, 2, "%s: %s" % (args, err))
            self.assertTrue(err.startswith("llamanet: "), err)

    def test_help_everywhere(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        for command in ("generate", "chat", "nodes", "status"):
            self.assertIn(command, out)
            code, out_c, _ = run(command, "--help")
            self.assertEqual(code, 0)
            self.assertIn("Usage: llamanet " + command, out_c)
            self.assertIn("Exit codes", out_c)

    def test_unreachable_swarm_is_exit_3(self):
        code, out, err = run("generate", "hi", env={"BOOTSTRAP_NODES": "127.0.0.1:%d" % free_port()})
        self.assertEqual(code, 3, err)
        self.assertIn("no node available", err)
        self.assertEqual(out, "")


class SwarmCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Harness(NODE_BIN, None, MODEL)
        cls.n1 = cls.h.node("n1", MODEL).start()
        cls.n2 = cls.h.node("n2", MODEL, bootstrap=[cls.n1.dht_address]).start()
        ok = wait_until(lambda: cls.n1.node_ids() == {"n1", "n2"} and cls.n2.node_ids() == {"n1", "n2"}, 20)
        assert ok, "the nodes never saw each other"
        cls.env = {"BOOTSTRAP_NODES": cls.n1.dht_address}

    @classmethod
    def tearDownClass(cls):
        cls.h.close()

    def test_nodes(self):
        code, out, err = run("nodes", "--json", env=self.env)
        self.assertEqual(code, 0, err)
        self.assertEqual({n["node_id"] for n in json.loads(out)}, {"n1", "n2"})
        code, out, _ = run("nodes", "--bootstrap-nodes", self.n2.dht_address)  # the flag, and a table
        self.assertEqual(code, 0)
        self.assertIn("NODE", out.splitlines()[0])
        self.assertEqual(len(out.splitlines()), 3)

    def test_generate_streams_and_reports_json(self):
        code, out, err = run("generate", "--max-tokens", "6", "--temperature", "0", "Once upon", env=self.env)
        self.assertEqual(code, 0, err)
        self.assertTrue(out.endswith("\n") and len(out) > 1)
        code, out, err = run("generate", "--json", "--max-tokens", "5", stdin="From stdin", env=self.env)
        self.assertEqual(code, 0, err)
        answer = json.loads(out)
        self.assertIn(answer["node_id"], {"n1", "n2"})
        # Random weights may end early on an end-of-text token.
        self.assertIn(answer["finish_reason"], {"length", "stop"})
        self.assertEqual(answer["usage"]["completion_tokens"] == 5, answer["finish_reason"] == "length")
        self.assertIsNone(answer["attempts"][-1]["error"])

    def test_chat_keeps_history(self):
        code, out, err = run("chat", "--json", "--max-tokens", "4", "--system", "Be brief.",
                             stdin="Hello\n/reset\nAgain\n\nAnd again\n", env=self.env)
        self.assertEqual(code, 0, err)
        turns = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(len(turns), 3)
        # The third turn carries the second one's history: more prompt tokens than the second.
        self.assertGreater(turns[2]["usage"]["prompt_tokens"], turns[1]["usage"]["prompt_tokens"])

    def test_status(self):
        code, out, err = run("status", "n2", "--json", env=self.env)
        self.assertEqual(code, 0, err)
        s = json.loads(out)
        self.assertEqual(s["node_id"], "n2")
        self.assertTrue(s["healthy"])
        code, out, _ = run("status", "127.0.0.1:%d" % self.n1.port)  # by address: no swarm needed
        self.assertEqual(code, 0)
        self.assertIn("n1", out)
        code, _, _ = run("status", "no-such-node", env=self.env)
        self.assertEqual(code, 3)
        code, _, _ = run("status", "127.0.0.1:%d" % free_port())
        self.assertEqual(code, 4)

    def test_unknown_model_is_exit_3(self):
        code, _, err = run("generate", "--model", "no-such-model", "hi", env=self.env)
        self.assertEqual(code, 3, err)

    def test_watch_redraws(self):
        env = dict(os.environ, **self.env)
        p = subprocess.Popen([CLI, "nodes", "--watch", "--json", "--interval", "0.2"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=env)
        lines = []
        reader = threading.Thread(target=lambda: [lines.append(json.loads(line)) for line in p.stdout], daemon=True)
        reader.start()
        try:
            redrawn = wait_until(lambda: len(lines) >= 3 and {n["node_id"] for n in lines[-1]} == {"n1", "n2"}, 10)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
            reader.join(timeout=10)
            p.stdout.close()
        self.assertTrue(redrawn, "3 redraws listing n1 and n2 did not come within 10 s: %s" % lines)


class ApiKeyCliTest(unittest.TestCase):
    """The API key goes only to the nodes named with --trusted-nodes, or to a private swarm's."""

    @classmethod
    def setUpClass(cls):
        cls.h = Harness(NODE_BIN, None, MODEL)
        cls.public = cls.h.node("keyed", MODEL, extra=["--api-key", "k"]).start()
        cls.private = cls.h.node("private", MODEL, extra=["--api-key", "k", "--swarm-secret", "s"]).start()
        for n in (cls.public, cls.private):
            listed = lambda n=n: http("GET", n.url + "/nodes", headers={"Authorization": "Bearer k"}, timeout=5)[2]
            ok = wait_until(lambda: n.name in {r["node_id"] for r in (listed() or {}).get("nodes", [])}, 20)
            assert ok, "%s never listed itself" % n.name

    @classmethod
    def tearDownClass(cls):
        cls.h.close()

    def generate(self, node, *flags, **env):
        env = dict({"BOOTSTRAP_NODES": node.dht_address, "LLAMANET_API_KEY": "k"}, **env)
        return run("generate", "--max-tokens", "2", *flags, "hi", env=env)

    def test_a_public_swarms_node_gets_no_key_and_the_error_says_why(self):
        code, out, err = self.generate(self.public)
        self.assertEqual(code, 4, err)
        self.assertEqual(out, "")
        self.assertIn("HTTP 401", err)
        self.assertIn("withheld", err)
        self.assertIn("--trusted-nodes", err)

    def test_a_trusted_node_gets_the_key(self):
        code, _, err = self.generate(self.public, "--trusted-nodes", "127.0.0.1:%d" % self.public.port)
        self.assertEqual(code, 0, err)
        code, _, err = self.generate(self.public, LLAMANET_TRUSTED_NODES="localhost:%d" % self.public.port)
        self.assertEqual(code, 0, err)

    def test_a_private_swarms_nodes_get_the_key(self):
        code, _, err = self.generate(self.private, "--swarm-secret", "s")
        self.assertEqual(code, 0, err)
        code, _, err = self.generate(self.private, LLAMANET_SWARM_SECRET="s")
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[4:], verbosity=2)
