from dataclasses import dataclass, field

import pytest

from pipeline.config import ConfigError, load_config, split_overrides, to_dict


@dataclass(frozen=True)
class Train:
    lr: float = 1e-4
    epochs: int = 3
    targets: tuple[str, ...] = ("query", "value")

    def __post_init__(self) -> None:
        if self.lr <= 0:
            raise ConfigError(f"train.lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class Root:
    name: str = "run"
    seed: int | None = None
    train: Train = field(default_factory=Train)


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_toml_and_overrides(tmp_path):
    path = write(tmp_path, 'name = "a"\n[train]\nlr = 2e-5\n')
    cfg = load_config(Root, path, ["train.epochs=5", "train.targets=['q']", "name=b", "seed=3"])
    assert cfg == Root(name="b", seed=3, train=Train(lr=2e-5, epochs=5, targets=("q",)))
    assert to_dict(cfg)["train"]["epochs"] == 5


def test_int_is_accepted_where_float_expected():
    assert load_config(Root, None, ["train.lr=1"]).train.lr == 1.0


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("[train]\nlrr = 1\n", [], "unknown key(s) lrr; allowed: epochs, lr, targets"),
        ("", ["train.lr=-1"], "train.lr must be > 0"),
        ("", ["train.epochs='x'"], "expected int"),
        ("train = 3\n", [], "expected a table"),
        ("[train\n", [], "not valid TOML"),
        ("", ["train.lr"], "must look like section.key=value"),
    ],
)
def test_bad_configs_say_what_is_wrong(tmp_path, text, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(Root, write(tmp_path, text), overrides)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(Root, tmp_path / "nope.toml")


def test_split_overrides():
    assert split_overrides(["--train.lr=3e-5"]) == ["train.lr=3e-5"]
    with pytest.raises(ConfigError):
        split_overrides(["train.lr"])
