# Two commands do all set-up on a fresh machine (idempotent: a second run skips what is done):
#   make demo   venv + pinned deps + colcon build, then the 8-robot formation fleet over DDS, given two
#               missions in a row (config/missions/formation2d_two_circles.yaml) through /fleet/mission,
#               recorded to bench_results/demo.mcap; then the summary and figure read back from that bag
#   make test   the same set-up, then the whole test suite (unit and multi-process ROS 2)
#   make fuzz   the fuzz suite (test/fuzz) with its deep budget, thousands of examples per boundary
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
WS := .ros
STAMP_DEPS := $(VENV)/.deps-installed
STAMP_BUILD := $(WS)/.built
INTERFACES := $(wildcard msg/*.msg srv/*.srv action/*.action) CMakeLists.txt package.xml

# Every command runs with the venv active, the colcon install space sourced (generated dro_ros.msg), and
# the source tree first on PYTHONPATH so edits to the library need no rebuild.
RUN := source $(VENV)/bin/activate && source $(WS)/install/local_setup.bash && \
       export PYTHONPATH=$(CURDIR):$$PYTHONPATH &&

.PHONY: demo test fuzz setup build clean
demo: setup
	rm -rf bench_results/demo.mcap bench_results/demo
	$(RUN) dro-ros fleet up config/formation2d.yaml --isolated --goals config/missions/formation2d_two_circles.yaml \
	  --record bench_results/demo.mcap
	$(RUN) dro-ros fleet report bench_results/demo.mcap

test: setup
	$(RUN) DRO_ROS_REQUIRE_ROS=1 python -m pytest test -q

fuzz: setup
	$(RUN) DRO_ROS_FUZZ=deep python -m pytest test/fuzz -q --hypothesis-show-statistics

setup: $(STAMP_DEPS) $(STAMP_BUILD)

$(STAMP_DEPS): requirements.txt requirements-ros.txt requirements-mango.txt setup.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt -r requirements-ros.txt -r requirements-mango.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

# CMake refuses exported include paths inside the source tree, where .venv lives; building through a
# symlinked source path keeps the venv outside CMake's source directory.
$(STAMP_BUILD): $(STAMP_DEPS) $(INTERFACES)
	mkdir -p $(WS)/src && ln -sfn ../.. $(WS)/src/dro_ros
	source $(VENV)/bin/activate && export CMAKE_PREFIX_PATH=$(CURDIR)/$(VENV) AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) && \
	  colcon --log-base $(WS)/log build --paths $(WS)/src/dro_ros --build-base $(WS)/build \
	    --install-base $(WS)/install --symlink-install \
	    --cmake-args -DPython3_EXECUTABLE=$(CURDIR)/$(VENV)/bin/python -DBUILD_TESTING=OFF
	touch $@

build: $(STAMP_BUILD)

clean:
	rm -rf $(WS) $(VENV) *.egg-info
