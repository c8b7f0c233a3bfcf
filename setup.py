"""Pure-Python install of dro_ros: `pip install -e .` gives the library and the `dro-ros` command.

The ROS 2 interfaces (msg/, srv/) and node executables are built by colcon through CMakeLists.txt;
nothing here imports rclpy.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def _requirements() -> list[str]:
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#") and "pytest" not in line
            and "hypothesis" not in line]


setup(
    name="dro_ros",
    version="0.1.0",
    description="Distributed optimization for robot fleets on ROS 2: carriers, ADMM, COHDA, "
                "CDS sweeps, MOSAIC-style scheduling",
    packages=find_packages(include=["dro_ros", "dro_ros.*"]),
    python_requires=">=3.10",
    install_requires=_requirements(),
    extras_require={"test": ["pytest==9.2.0", "hypothesis==6.170.15"],
                    "mango": ["mango-agents==2.4.0"]},  # dro_ros.mango and dro_ros.compat's MangoCarrier
    entry_points={"console_scripts": ["dro-ros = dro_ros.cli:main"]},
    license="Apache-2.0",
)
