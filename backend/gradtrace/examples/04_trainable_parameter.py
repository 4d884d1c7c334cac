# title: One trainable parameter and a loss
# description: An input image does not need gradients; the trainable parameter does. The loss is the sum of input × parameter, so the chain rule gives the parameter a gradient equal to the input, ready for one gradient-descent update.
import torch
from torch.autograd import Variable

input_image = torch.ones(2, 2)

# The trainable parameter starts at 1 and asks for gradients.
trainable_param_in_layer1 = torch.ones(2, 2)
trainable_param_in_layer1 = Variable(trainable_param_in_layer1, requires_grad=True)

output_from_layer1 = input_image * trainable_param_in_layer1 + 2
final_loss_value = output_from_layer1.sum()

# d(final_loss_value)/d(trainable_param_in_layer1), through the chain rule
final_loss_value.backward()
print(trainable_param_in_layer1.grad)

# One step of gradient descent, done by hand without recording it
learning_rate = 0.1
with torch.no_grad():
    trainable_param_in_layer1 -= learning_rate * trainable_param_in_layer1.grad
print(trainable_param_in_layer1)
