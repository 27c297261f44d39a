"""Critical replies in call simulations: `critical`, `discloses` and the breach-path rule."""

from pathlib import Path

from tests.content.tree import copy_valid, edit, problems

from lms.content import parse_tree

QUIZ = "quizzes/recording-calls.yaml"
N1_A = '{id: a, text: "Of course.", feedback: Disclosure to a third party., score: 0, next: end-breach}'
N3_B = '{id: b, text: "Great, here is the bill.", feedback: Not verified., score: 1, next: end-breach}'
N4_B = '{id: b, text: "Sure, he can call any time.", feedback: Nothing recorded., score: 1, next: end-good}'
REASON = "Reading a bill to an unverified caller discloses personal data (Art. 5(1)(f))."


def edited(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    root = copy_valid(tmp_path)
    for old, new in edits:
        edit(root, QUIZ, old, new)
    return root


def test_critical_and_discloses_are_read_into_the_model(tmp_path):
    root = edited(tmp_path, (N1_A, N1_A.replace("score: 0", f'score: 0, critical: "{REASON}", '
                                                              "discloses: true")))
    assert problems(root) == []
    simulation = parse_tree(root)[0].quizzes["recording-calls"].questions[-1]
    first, second = simulation.node("n1").choices
    assert (first.critical, first.discloses) == (REASON, True)
    assert (second.critical, second.discloses) == ("", False)


def test_a_critical_choice_must_score_0(tmp_path):
    root = edited(tmp_path, (N3_B, N3_B.replace("score: 1", f'critical: "{REASON}", score: 1')))
    assert problems(root) == [
        f"{QUIZ}:89: question 'sim-impostor', node 'n3', choice 'b': a critical choice must "
        "score 0, not 1"]


def test_a_disclosure_must_be_critical(tmp_path):
    root = edited(tmp_path, (N1_A, N1_A.replace("score: 0", "score: 0, discloses: true")))
    assert problems(root) == [
        f"{QUIZ}:77: question 'sim-impostor', node 'n1', choice 'a': it discloses personal data "
        "(discloses: true), so it must be critical: add 'critical:' with the reason the agent "
        "is told"]


def test_the_fields_types_are_checked(tmp_path):
    root = edited(tmp_path, (N1_A, N1_A.replace("score: 0", 'score: 0, critical: "  ", discloses: "yes"')))
    assert problems(root) == [
        f"{QUIZ}:77: question 'sim-impostor', node 'n1', choice 'a': 'critical' must not be empty",
        f"{QUIZ}:77: question 'sim-impostor', node 'n1', choice 'a': 'discloses' must be true or "
        "false, got 'yes'",
    ]


def test_a_breach_path_that_could_reach_the_pass_mark_is_an_error(tmp_path):
    # n1/b, n2/b, n3/a (3 each) then the critical n4/b: 9 of the best 12, 75%.
    critical_n4_b = N4_B.replace("score: 1", f'score: 0, critical: "{REASON}"')
    root = edited(tmp_path, ("pass_mark: 80", "pass_mark: 75"), (N4_B, critical_n4_b))
    assert problems(root) == [
        f"{QUIZ}:94: question 'sim-impostor', node 'n4', choice 'b': a path through this critical "
        "choice scores 9 of 12 (75%), reaching the pass mark of 75%: n1/b → n2/b → n3/a → n4/b "
        "→ end-good. Lower the scores on that path so that it stays below the pass mark"]
    # The quiz's own pass mark decides: at 80% the same path cannot pass.
    edit(root, QUIZ, "pass_mark: 75", "pass_mark: 80")
    assert problems(root) == []


def test_the_best_path_through_a_critical_choice_is_the_one_reported(tmp_path):
    # n2/c becomes critical and leads on to n3: the best way through it is n3/a, n4/a (6 more),
    # not the 1 point n3/b would add.
    old = '{id: c, text: "Please ask her to call.", feedback: Acceptable., score: 2, next: end-good}'
    new = f'{{id: c, text: "Please ask her to call.", feedback: Acceptable., score: 0, next: n3, critical: "{REASON}"}}'
    root = edited(tmp_path, ("pass_mark: 80", "pass_mark: 50"), (old, new))
    assert problems(root) == [
        f"{QUIZ}:84: question 'sim-impostor', node 'n2', choice 'c': a path through this critical "
        "choice scores 9 of 12 (75%), reaching the pass mark of 50%: n1/b → n2/c → n3/a → n4/a "
        "→ end-good. Lower the scores on that path so that it stays below the pass mark"]


def test_a_broken_graph_is_not_searched_for_breach_paths(tmp_path):
    # The cycle is reported; the breach-path rule waits until the graph is sound.
    critical_n4_b = N4_B.replace("score: 1", f'score: 0, critical: "{REASON}"')
    root = edited(tmp_path, ("pass_mark: 80", "pass_mark: 10"), (N4_B, critical_n4_b),
                  ("score: 3, next: end-good}", "score: 3, next: n2}"))
    assert problems(root) == [
        f"{QUIZ}:93: question 'sim-impostor', node 'n4', choice 'a': leads back to node 'n2', "
        "so the call can go round forever"]
