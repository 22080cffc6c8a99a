"""Matrix expansion follows GitHub Actions' strategy.matrix."""

from __future__ import annotations

from runner.manifest.matrix import expand, problems


def test_github_documentation_example_for_include() -> None:
    # The example from GitHub's "Expanding or adding matrix configurations" documentation.
    matrix = {
        "fruit": ["apple", "pear"],
        "animal": ["cat", "dog"],
        "include": [
            {"color": "green"},
            {"color": "pink", "animal": "cat"},
            {"fruit": "apple", "shape": "circle"},
            {"fruit": "banana"},
            {"fruit": "banana", "animal": "cat"},
        ],
    }
    assert expand(matrix) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_cross_product_in_the_order_written() -> None:
    assert expand({"os": ["linux", "mac"], "py": [3, 4]}) == [
        {"os": "linux", "py": 3},
        {"os": "linux", "py": 4},
        {"os": "mac", "py": 3},
        {"os": "mac", "py": 4},
    ]


def test_exclude_matches_partial_combinations() -> None:
    matrix = {
        "os": ["linux", "mac", "windows"],
        "py": [3, 4],
        "exclude": [{"os": "windows"}, {"os": "mac", "py": 3}],
    }
    assert expand(matrix) == [
        {"os": "linux", "py": 3},
        {"os": "linux", "py": 4},
        {"os": "mac", "py": 4},
    ]


def test_exclude_runs_before_include() -> None:
    matrix = {"svc": ["a", "b"], "exclude": [{"svc": "b"}], "include": [{"svc": "b"}]}
    assert expand(matrix) == [{"svc": "a"}, {"svc": "b"}]


def test_include_only_matrix() -> None:
    matrix = {"include": [{"svc": "a", "n": 1}, {"svc": "b"}]}
    assert expand(matrix) == [{"svc": "a", "n": 1}, {"svc": "b"}]


def test_include_never_changes_an_original_value() -> None:
    matrix = {"svc": ["a"], "include": [{"svc": "z", "extra": 1}]}
    assert expand(matrix) == [{"svc": "a"}, {"svc": "z", "extra": 1}]


def test_object_values_compare_whole() -> None:
    matrix = {"env": [{"name": "x"}, {"name": "y"}], "exclude": [{"env": {"name": "y"}}]}
    assert expand(matrix) == [{"env": {"name": "x"}}]


def test_exclude_of_an_unknown_axis_is_a_problem() -> None:
    found = problems({"svc": ["a"], "exclude": [{"svc": "a"}, {"service": "a"}]})
    assert [(p.path, p.message) for p in found] == [
        (
            ("exclude", 1, "service"),
            'exclude names "service", which is not an axis of this matrix (axes: svc)',
        )
    ]
