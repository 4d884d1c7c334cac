# Source: jacobgil/pytorch-grad-cam (ActivationsAndGradients: a forward hook keeps the target layer's activation,
#   a tensor hook on it keeps its gradient; GradCAM weights = the gradient's spatial mean), after Selvaraju et al.,
#   "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization"
#   https://github.com/jacobgil/pytorch-grad-cam/blob/master/pytorch_grad_cam/activations_and_gradients.py
#   https://github.com/jacobgil/pytorch-grad-cam/blob/master/pytorch_grad_cam/grad_cam.py
# License: MIT (jacobgil/pytorch-grad-cam). Copyright (c) 2021 Jacob Gildenblat.
# Changes: a small CNN with random weights and a random 12x12 image instead of a torchvision ResNet and a photo; the
#   library's classes reduced to the hooks and the CAM computation in torch (no numpy/cv2 resizing).
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Linear(6, 5)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


class ActivationsAndGradients:
    """Class for extracting activations and registering gradients from targeted intermediate layers"""

    def __init__(self, model, target_layers):
        self.model = model
        self.gradients = []
        self.activations = []
        self.handles = []
        for target_layer in target_layers:
            self.handles.append(target_layer.register_forward_hook(self.save_activation))
            self.handles.append(target_layer.register_forward_hook(self.save_gradient))

    def save_activation(self, module, input, output):
        self.activations.append(output.detach())

    def save_gradient(self, module, input, output):
        def _store_grad(grad):
            self.gradients = [grad.detach()] + self.gradients
        output.register_hook(_store_grad)

    def __call__(self, x):
        self.gradients = []
        self.activations = []
        return self.model(x)

    def release(self):
        for handle in self.handles:
            handle.remove()


torch.manual_seed(0)
model = SmallCNN().eval()
target_layers = [model.features[3]]
input_tensor = torch.randn(1, 3, 12, 12)
extractor = ActivationsAndGradients(model, target_layers)
outputs = extractor(input_tensor)
target_category = outputs.argmax(dim=1).item()
model.zero_grad()
loss = outputs[:, target_category].sum()
loss.backward(retain_graph=True)

activations = extractor.activations[0]
grads = extractor.gradients[0]
weights = grads.mean(dim=(2, 3), keepdim=True)
cam = F.relu((weights * activations).sum(dim=1))
cam = cam - cam.min()
cam = cam / (cam.max() + 1e-7)
extractor.release()
print(target_category, cam.shape, round(cam.mean().item(), 4))
