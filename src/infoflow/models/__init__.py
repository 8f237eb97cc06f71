"""Networks the study trains: LeNet-5, a multilayer perceptron, a small VGG-style CNN and a
small ResNet.

Every model names its measurable blocks (``conv1``, ``fc1``, …, each ending in its activation)
and lists them in order in ``layer_names`` — the default layers the monitor measures.
"""

from infoflow.models.factory import MODELS, build_model
from infoflow.models.lenet import LeNet5
from infoflow.models.mlp import MLP
from infoflow.models.resnet import ResNet
from infoflow.models.vgg import SmallVGG

__all__ = ["MODELS", "MLP", "LeNet5", "ResNet", "SmallVGG", "build_model"]
