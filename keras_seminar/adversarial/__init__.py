"""Adversarial examples: FGSM and L-infinity PGD, robustness curves, adversarial training.

`attacks` holds the attacks and the accuracy under attack; `training` the callback that feeds
`fit` batches mixed with adversarial examples, and `adversarial_fit`, a loop that crafts them
per batch. All run on every backend.

Example:
    >>> from keras_seminar import adversarial
    >>> x_adv = adversarial.fgsm(model, x_test, y_test, eps=0.1)
    >>> adversarial.robustness_curve(model, x_test, y_test, [0, 0.05, 0.1], attack="pgd")
    {'attack': 'pgd', 'eps': [0.0, 0.05, 0.1], 'accuracy': [0.97, 0.41, 0.02]}
    >>> adv = adversarial.AdversarialTraining(x_train, y_train, eps=0.1)
    >>> model.fit(adv.dataset, epochs=5, callbacks=[adv])
    >>> adversarial.adversarial_fit(model, x_train, y_train, 0.3, "pgd", validation_data=(x_val, y_val))

Papers: Goodfellow, Shlens, Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015
(FGSM, adversarial training); Madry et al., "Towards deep learning models resistant to
adversarial attacks", ICLR 2018 (PGD with a random start).
"""

from keras_seminar.adversarial.attacks import ATTACKS, fgsm, pgd, predict_labels, robustness_curve
from keras_seminar.adversarial.training import AdversarialTraining, adversarial_fit

__all__ = ["ATTACKS", "AdversarialTraining", "adversarial_fit", "fgsm", "pgd", "predict_labels", "robustness_curve"]
