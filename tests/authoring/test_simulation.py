"""The simulation graph: faults found as content check finds them, every path, and the drawing."""
from __future__ import annotations

import re
from pathlib import Path

from lms.authoring.quiz_yaml import dump_quiz, load_quiz
from lms.authoring.simulation import analyse, render_svg
from lms.content import check_tree

ROOT = Path(__file__).resolve().parents[2]


def _choice(cid: str, target: str, score: int) -> dict:
    return {"id": cid, "text": f"Say {cid}", "feedback": f"Feedback {cid} (Art. 32)",
            "score": score, "next": target}


def handmade() -> dict:
    """n1 -> n2 -> end-good, n1 -> end-bad, a reply to a node that does not exist, a node with no
    replies and no ending, and two nodes nothing leads to."""
    return {
        "id": "sim-test", "type": "call_simulation", "phase": "during", "difficulty": "easy",
        "points": 3, "title": "A test call", "scenario": "Someone calls.", "start": "n1",
        "nodes": [
            {"id": "n1", "caller": "Hello?", "choices": [_choice("a", "n2", 3), _choice("b", "end-bad", 0),
                                                         _choice("c", "ghost", 1)]},
            {"id": "n2", "caller": "And then?", "choices": [_choice("a", "end-good", 3), _choice("b", "n3", 1)]},
            {"id": "n3", "caller": "Silence."},
            {"id": "end-good", "caller": "Thanks!", "end": True},
            {"id": "end-bad", "caller": "Great, bye.", "end": True},
            {"id": "orphan", "caller": "Nobody gets here.", "end": True},
            {"id": "lost", "caller": "Nor here.", "choices": [_choice("a", "orphan", 3),
                                                              _choice("b", "end-good", 3)]},
        ],
        "explanation": "Because of Art. 32.", "references": ["Art. 32"],
    }


def _quiz_with(item: dict) -> dict:
    return {"title": "T", "pass_mark": 50, "time_limit_minutes": None,
            "attempts": {"max": None, "cooldown_minutes": 0}, "review": "immediate",
            "draw": [{"phase": "during", "count": 1}], "questions": [item]}


def _content_check_messages(tmp_path: Path, item: dict) -> set[str]:
    (tmp_path / "courses").mkdir()
    (tmp_path / "quizzes").mkdir()
    (tmp_path / "quizzes" / "t.yaml").write_text(dump_quiz(_quiz_with(item)), encoding="utf-8")
    return {problem.message for problem in check_tree(tmp_path)}


def test_finds_unreachable_nodes_dead_ends_and_missing_targets():
    result = analyse(handmade())
    assert result.reachable == {"n1", "n2", "n3", "end-good", "end-bad"}
    assert result.unreachable == ["orphan", "lost"]
    assert result.dead_ends == ["n1", "n3"]          # n1's reply 'c' goes nowhere; n3 has no reply
    assert result.depth == {"n1": 0, "n2": 1, "end-bad": 1, "end-good": 2, "n3": 2}


def test_every_path_to_an_ending_with_its_score():
    result = analyse(handmade())
    paths = {(tuple(f"{s.node}:{s.choice}" for s in p.steps), p.ending, p.score) for p in result.paths}
    assert paths == {(("n1:a", "n2:a"), "end-good", 6), (("n1:b",), "end-bad", 0)}
    assert result.best_score == 6


def test_findings_are_content_checks_own_messages(tmp_path):
    """What the editor flags is what publishing refuses, word for word."""
    findings = {finding.message for finding in analyse(handmade()).findings}
    assert findings == {
        "question 'sim-test', node 'n1', choice 'c': 'next' names no node: 'ghost'",
        "question 'sim-test', node 'n3': has neither choices nor 'end: true'",
        "question 'sim-test', node 'orphan': never reached from the start node 'n1'",
        "question 'sim-test', node 'lost': never reached from the start node 'n1'",
    }
    assert findings <= _content_check_messages(tmp_path, handmade())


def test_loops_and_single_replies_are_flagged_like_content_check(tmp_path):
    item = handmade()
    item["nodes"] = [
        {"id": "n1", "caller": "Hi", "choices": [_choice("a", "n2", 3), _choice("b", "end", 0)]},
        {"id": "n2", "caller": "Again", "choices": [_choice("a", "n1", 3)]},
        {"id": "end", "caller": "Bye", "end": True},
    ]
    result = analyse(item)
    assert {(f.node, f.kind) for f in result.findings} == {("n2", "few_choices"), ("n2", "cycle")}
    assert result.marks("n2") == ["ONE REPLY", "LOOPS BACK"]
    assert {f.message for f in result.findings} <= _content_check_messages(tmp_path, item)


def test_a_clean_repository_simulation_has_no_findings():
    quiz = load_quiz((ROOT / "quizzes" / "call-security.yaml").read_text(encoding="utf-8"))
    sim = next(item for item in quiz["questions"] if item["type"] == "call_simulation")
    result = analyse(sim)
    assert result.findings == [] and result.unreachable == []
    assert len(result.paths) == 66 and result.best_score == 15
    assert all(quiz_node["id"] in result.reachable for quiz_node in sim["nodes"])


def test_svg_draws_every_node_with_its_label_escaped():
    item = handmade()
    item["nodes"][1]["caller"] = "<script>alert(1)</script> & more"
    item["nodes"][0]["choices"][0]["id"] = "a<b>"
    svg = render_svg(item)
    for node in item["nodes"]:
        assert f'data-node="{node["id"]}"' in svg
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in svg
    assert "a&lt;b&gt; · 3" in svg


def test_replies_to_the_same_node_share_one_line_with_their_labels_stacked():
    item = handmade()
    item["nodes"][0]["choices"].append(_choice("d", "n2", 1))  # a second reply from n1 to n2
    svg = render_svg(item)
    n1_to_n2 = [edge for edge in re.findall(r'<g class="sim-edge">.*?</g>', svg) if "d · 1" in edge]
    assert len(n1_to_n2) == 1 and n1_to_n2[0].count("<line") == 1
    assert re.search(r'<tspan [^>]*dy="0">a · 3</tspan><tspan [^>]*dy="13">d · 1</tspan>', n1_to_n2[0])


def test_svg_marks_faults_in_words_not_colour_alone():
    svg = render_svg(handmade())
    groups = dict(re.findall(r'data-node="([^"]+)">(.*?)</g>', svg))
    assert "⚠ UNREACHABLE" in groups["orphan"] and "⚠ UNREACHABLE" in groups["lost"]
    assert "⚠ DEAD END" in groups["n3"] and "⚠ DEAD END" in groups["n1"]
    assert "⚠" not in groups["n2"] and "⚠" not in groups["end-good"]
    assert "end-good · END" in groups["end-good"]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "style=" not in svg  # the page's CSP allows no inline styles
