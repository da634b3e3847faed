"""environment: the spec, its hash, conda and requirements files, saving and loading."""

from __future__ import annotations

import pytest

from runyard import CondaDependencies, Environment
from runyard.environment import ENV_FILE_NAME, conda_to_pip
from runyard.errors import ConfigError


def pip_env(name: str, *packages: str, **fields) -> Environment:
    env = Environment(name, **fields)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=list(packages))
    return env


def test_hash_ignores_name_version_and_variables():
    a = pip_env("a", "six==1.16.0")
    b = pip_env("b", "six==1.16.0", version="7", environment_variables={"X": "1"})
    assert a.hash == b.hash
    assert len(a.hash) == 64


@pytest.mark.parametrize("change", [
    lambda e: e.python.conda_dependencies.add_pip_package("requests"),
    lambda e: e.python.conda_dependencies.set_python_version("3.12"),
    lambda e: setattr(e.docker, "base_image", "python:3.11-slim"),
    lambda e: e.python.conda_dependencies.add_conda_package("numpy"),
    lambda e: setattr(e.python.conda_dependencies, "pip_options", ["--no-build-isolation"]),
], ids=["pip package", "python version", "docker image", "conda package", "pip options"])
def test_hash_changes_with_what_gets_built(change):
    env = pip_env("a", "six==1.16.0")
    before = env.hash
    change(env)
    assert env.hash != before


def test_install_steps_bring_the_build_system_first_without_build_isolation():
    deps = CondaDependencies(pip_packages=["chainer==7.8.1", "setuptools<70"])
    assert deps.install_steps() == [["chainer==7.8.1", "setuptools<70"]]
    assert CondaDependencies().install_steps() == []
    deps.pip_options = ["--no-build-isolation"]
    assert deps.install_steps() == [["setuptools<70", "wheel"], ["chainer==7.8.1", "setuptools<70"]]


def test_invalid_name_is_a_config_error():
    with pytest.raises(ConfigError, match="environment name"):
        Environment("bad name!")


@pytest.mark.parametrize("spec, pip", [
    ("numpy", "numpy"),
    ("numpy=1.26", "numpy==1.26.*"),
    ("numpy=1.26.4", "numpy==1.26.4"),
    ("numpy=1.26.4=py311h64a7726_0", "numpy==1.26.4"),
    ("numpy>=1.26", "numpy>=1.26"),
    ("conda-forge::pandas=2.1", "pandas==2.1.*"),
    ("pytorch=2.1", "torch==2.1.*"),
    ("py-xgboost", "xgboost"),
    ("scikit-learn==1.3.2", "scikit-learn==1.3.2"),
])
def test_conda_packages_translate_to_pypi(spec, pip):
    assert conda_to_pip(spec) == pip


def test_conda_only_package_is_refused():
    with pytest.raises(ConfigError, match="cudatoolkit=11.8"):
        conda_to_pip("cudatoolkit=11.8")
    env = Environment("gpu")
    env.python.conda_dependencies.add_conda_package("cudatoolkit=11.8")
    with pytest.raises(ConfigError, match="cudatoolkit"):
        env.validate_for_build()


def test_from_conda_specification(project):
    src = project({"environment.yml": """\
        name: train
        channels:
          - conda-forge
        dependencies:
          - python=3.10
          - pip
          - numpy=1.26
          - pip:
            - six==1.16.0
            - requests>=2
        """})
    env = Environment.from_conda_specification("train", src / "environment.yml")
    deps = env.python.conda_dependencies
    assert deps.python_version == "3.10"
    assert deps.pip_packages == ["six==1.16.0", "requests>=2"]
    assert deps.channels == ["conda-forge"]
    assert deps.requirements() == ["numpy==1.26.*", "six==1.16.0", "requests>=2"]


def test_conda_specification_with_conda_only_package_names_file_and_line(project):
    src = project({"environment.yml": """\
        name: gpu
        dependencies:
          - python=3.11
          - numpy
          - cudatoolkit=11.8
          - pip:
            - six
        """})
    with pytest.raises(ConfigError) as info:
        Environment.from_conda_specification("gpu", src / "environment.yml")
    message = str(info.value)
    assert "cudatoolkit=11.8" in message
    assert str(src / "environment.yml") in message
    assert "line 5" in message


def test_conda_specification_without_dependencies(project):
    src = project({"environment.yml": "name: x\nchannels: [defaults]\n"})
    with pytest.raises(ConfigError, match="dependencies"):
        Environment.from_conda_specification("x", src / "environment.yml")


def test_from_pip_requirements_follows_includes(project):
    src = project({
        "requirements.txt": """\
            # training
            --index-url https://pypi.org/simple
            six==1.16.0  # pinned
            -r more/base.txt

            requests>=2
            """,
        "more/base.txt": "pyyaml>=6\n-r ../requirements.txt\n",
    })
    env = Environment.from_pip_requirements("train", src / "requirements.txt")
    deps = env.python.conda_dependencies
    assert deps.pip_packages == ["six==1.16.0", "pyyaml>=6", "requests>=2"]
    assert deps.pip_options == ["--index-url https://pypi.org/simple"]


def test_from_pip_requirements_missing_include(project):
    src = project({"requirements.txt": "-r nope.txt\n"})
    with pytest.raises(ConfigError, match="nope.txt"):
        Environment.from_pip_requirements("train", src / "requirements.txt")


def test_save_and_load_round_trip(tmp_path):
    env = pip_env("train", "six==1.16.0", environment_variables={"MODE": "fast"})
    env.python.conda_dependencies.set_python_version("3.11")
    env.docker.base_image = "python:3.11-slim"
    written = env.save_to_directory(tmp_path / "envdir")
    assert written.name == ENV_FILE_NAME
    loaded = Environment.load_from_directory(tmp_path / "envdir")
    assert loaded.name == "train"
    assert loaded.hash == env.hash
    assert loaded.environment_variables == {"MODE": "fast"}
    assert loaded.model_dump() == env.model_dump()
    with pytest.raises(ConfigError, match="overwrite"):
        env.save_to_directory(tmp_path / "envdir")
    env.save_to_directory(tmp_path / "envdir", overwrite=True)
    with pytest.raises(ConfigError, match=ENV_FILE_NAME):
        Environment.load_from_directory(tmp_path / "empty")


def test_from_file_reads_each_kind(project):
    src = project({
        "requirements.txt": "six==1.16.0\n",
        "conda.yml": "dependencies:\n  - python=3.11\n  - pip:\n    - six==1.16.0\n",
        "env.yml": "name: mine\nconda_file: conda.yml\nenvironment_variables:\n  A: 1\n",
    })
    from_txt = Environment.from_file(src / "requirements.txt")
    assert from_txt.name == "requirements"
    assert from_txt.python.conda_dependencies.pip_packages == ["six==1.16.0"]
    from_conda = Environment.from_file(src / "conda.yml", name="c")
    assert from_conda.name == "c"
    assert from_conda.python.conda_dependencies.python_version == "3.11"
    from_yaml = Environment.from_file(src / "env.yml")
    assert from_yaml.name == "mine"
    assert from_yaml.environment_variables == {"A": "1"}
    assert from_yaml.hash == from_conda.hash


def test_from_file_invalid_yaml_names_file_and_line(project):
    src = project({"env.yml": "name: broken\npython:\n  conda_dependencies: [unclosed\n"})
    with pytest.raises(ConfigError) as info:
        Environment.from_file(src / "env.yml")
    message = str(info.value)
    assert str(src / "env.yml") in message
    assert "line 4" in message or "line 3" in message
    assert "invalid YAML" in message


def test_from_file_unknown_field_names_file_line_and_field(project):
    src = project({"env.yml": "name: x\npython:\n  conda_dependencies:\n    pip_packagez: [six]\n"})
    with pytest.raises(ConfigError) as info:
        Environment.from_file(src / "env.yml")
    message = str(info.value)
    assert str(src / "env.yml") in message
    assert "line 4" in message
    assert "python.conda_dependencies.pip_packagez" in message


def test_bad_python_version_is_refused():
    env = Environment("x")
    env.python.conda_dependencies.set_python_version("three")
    with pytest.raises(ConfigError, match="python_version"):
        env.validate_for_build()


def test_hash_covers_the_bytes_of_local_wheels_and_folders(project):
    src = project({
        "dist/mypkg-0.1-py3-none-any.whl": b"wheel bytes v1",
        "pkg/setup.py": "from setuptools import setup\nsetup(name='pkg')\n",
        "pkg/pkg/__init__.py": "VALUE = 1\n",
        "requirements.txt": "./dist/mypkg-0.1-py3-none-any.whl\n./pkg\nsix==1.16.0\n",
    })
    env = Environment.from_pip_requirements("local", src / "requirements.txt")
    first = env.hash

    (src / "dist/mypkg-0.1-py3-none-any.whl").write_bytes(b"wheel bytes v2")
    after_wheel = Environment.from_pip_requirements("local", src / "requirements.txt").hash
    assert after_wheel != first

    (src / "pkg/setup.py").write_text("from setuptools import setup\nsetup(name='pkg', version='2')\n")
    after_setup = Environment.from_pip_requirements("local", src / "requirements.txt").hash
    assert after_setup != after_wheel

    # what building the folder writes into it, and caches, leave the hash alone
    for leftover in ("build/lib/pkg/__init__.py", "pkg.egg-info/PKG-INFO", "pkg/__pycache__/x.pyc", ".git/HEAD"):
        (src / "pkg" / leftover).parent.mkdir(parents=True, exist_ok=True)
        (src / "pkg" / leftover).write_text("generated")
    assert Environment.from_pip_requirements("local", src / "requirements.txt").hash == after_setup

    # an environment without local paths hashes as it always did: the spec alone
    plain = pip_env("plain", "six==1.16.0")
    import hashlib
    import json
    assert plain.hash == hashlib.sha256(json.dumps(plain.build_spec(), sort_keys=True,
                                                   separators=(",", ":")).encode()).hexdigest()


def test_hash_of_an_editable_folder_follows_its_build_files_only(project):
    src = project({"pkg/pyproject.toml": "[project]\nname = 'pkg'\nversion = '1'\n",
                   "pkg/pkg/__init__.py": "VALUE = 1\n"})
    env = pip_env("editable", f"-e {src / 'pkg'}")
    before = env.hash
    (src / "pkg/pkg/__init__.py").write_text("VALUE = 2\n")  # used live by an editable install
    assert env.hash == before
    (src / "pkg/pyproject.toml").write_text("[project]\nname = 'pkg'\nversion = '2'\n")
    assert env.hash != before


def test_malformed_requirement_line_names_file_and_line(project):
    src = project({"requirements.txt": "six==1.16.0\n--pre\nthis is not a requirement!!\n"})
    with pytest.raises(ConfigError) as info:
        Environment.from_pip_requirements("bad", src / "requirements.txt")
    message = str(info.value)
    assert f"{src / 'requirements.txt'}: line 3:" in message
    assert "'this is not a requirement!!' is not a pip requirement" in message


def test_missing_local_requirement_names_file_and_line(project):
    src = project({"requirements.txt": "six\n./nowhere\n"})
    with pytest.raises(ConfigError, match=r"requirements.txt: line 2: './nowhere' does not exist"):
        Environment.from_pip_requirements("bad", src / "requirements.txt")


def test_malformed_pip_package_names_field_and_index():
    env = pip_env("bad", "six==1.16.0", "six>=>1")
    with pytest.raises(ConfigError, match=r"pip_packages\[1\] 'six>=>1' is not a pip requirement"):
        env.validate_for_build()


def test_malformed_pip_package_in_yaml_names_file_and_line(project):
    src = project({
        "env.yml": "name: x\npython:\n  conda_dependencies:\n    pip_packages:\n      - six\n      - six>=>1\n",
        "conda.yml": "dependencies:\n  - python=3.11\n  - pip:\n    - six\n    - not ok!!\n",
    })
    with pytest.raises(ConfigError) as info:
        Environment.from_file(src / "env.yml")
    assert str(src / "env.yml") in str(info.value)
    assert "line 6" in str(info.value) and "pip_packages.1" in str(info.value)
    with pytest.raises(ConfigError) as info:
        Environment.from_file(src / "conda.yml")
    assert "line 5" in str(info.value) and "dependencies.1.pip.1" in str(info.value)
