"""The GPU path: Gram matrices, spectra and approximations on CUDA tensors (skipped without one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import gaussian_gram, label_gram, mutual_information, renyi_entropy

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("method", ["exact", "lanczos", "nystrom"])
def test_cuda_agrees_with_cpu(method):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 8)), rng.integers(0, 4, size=300)
    cpu = mutual_information(gaussian_gram(x, 2.0), label_gram(y), method=method)
    xc, yc = torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")
    gpu = mutual_information(gaussian_gram(xc, 2.0), label_gram(yc), method=method)
    assert gpu.device.type == "cuda"
    assert gpu.item() == pytest.approx(cpu, abs=1e-8 if method == "exact" else 1e-6)


def test_cuda_gradients():
    x = torch.randn(50, 3, device="cuda", dtype=torch.float64, requires_grad=True)
    renyi_entropy(gaussian_gram(x, 1.0)).backward()
    assert torch.isfinite(x.grad).all()


def test_monitor_on_a_cuda_model_agrees_with_cpu():
    import warnings

    from infoflow.data import load_digits
    from infoflow.models import LeNet5
    from infoflow.monitor import InformationMonitor

    images, labels = load_digits()
    torch.manual_seed(0)
    model = LeNet5(1, 8, filters=(3, 4)).double()
    x = torch.tensor(images[:120], dtype=torch.float64)
    options = dict(conv_mode="feature_maps", pid_layers=["conv2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu = InformationMonitor(model, x, labels[:120], **options).measure(0).values
        gpu_monitor = InformationMonitor(model.cuda(), x, labels[:120], **options)
        gpu = gpu_monitor.measure(0).values
    assert gpu_monitor._y_gram.device.type == "cuda"
    for key, value in cpu.items():
        assert gpu[key] == pytest.approx(value, abs=1e-7, nan_ok=True), key


def count_syncs(function):
    """(result, device→host synchronisations during ``function()``), from torch's detector."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            result = function()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return result, sum("synchroniz" in str(w.message) for w in caught)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lanczos_runs_on_the_device_and_agrees_with_the_cpu(dtype):
    """Products, QR, reorthogonalisation and the batched tridiagonal solves stay on the GPU:
    the only synchronisations are the solvers' own error checks (QR and eigh calls)."""
    from infoflow import Lanczos
    from infoflow.measures.approximation import approximate_spectrum

    rng = np.random.default_rng(0)
    a = gaussian_gram(rng.normal(size=(2000, 6)), 2.0) / 2000
    method = Lanczos()
    cpu_nodes, cpu_weights, _ = approximate_spectrum(
        a.astype(np.float32) if dtype == torch.float32 else a, method)
    matrix = torch.tensor(a, dtype=dtype, device="cuda")
    approximate_spectrum(matrix, method)  # warm-up: the solvers' first calls set up workspaces
    (nodes, weights, _), syncs = count_syncs(lambda: approximate_spectrum(matrix, method))
    assert nodes.device.type == "cuda"
    # no round trip per Lanczos step or probe: the count does not grow with them (an H100 run
    # counted 6 in float64 and 5 in float32 for the QR and eigh calls' own checks, without the
    # warm-up; an H200 run 5, then 4 with twice the steps and probes)
    _, more_steps = count_syncs(lambda: approximate_spectrum(
        matrix, Lanczos(steps=2 * method.steps, probes=2 * method.probes)))
    assert more_steps <= syncs <= 8, (syncs, more_steps)
    cpu_value = float(cpu_weights @ (cpu_nodes * np.log(np.where(cpu_nodes > 0, cpu_nodes, 1))))
    gpu_value = float((weights * nodes * torch.where(nodes > 0, nodes, 1).log()).sum())
    assert gpu_value == pytest.approx(cpu_value, abs=1e-6 if dtype == torch.float64 else 1e-4)


def test_the_approximations_psd_check_adds_one_synchronisation_per_call():
    """The Ritz values' bound on the smallest eigenvalue stays on the device and comes back with
    the 2 x 2 minors' maximum in one transfer; an indefinite matrix is refused on the GPU too."""
    from infoflow import Lanczos, NotPositiveSemidefiniteError
    from infoflow.measures.approximation import approximate_spectrum
    from infoflow.measures.spectrum import entropy_of_normalized

    rng = np.random.default_rng(0)
    a = torch.tensor(gaussian_gram(rng.normal(size=(2000, 6)), 2.0) / 2000, device="cuda")
    _, alone = count_syncs(lambda: approximate_spectrum(a, Lanczos()))
    value, total = count_syncs(lambda: entropy_of_normalized(a, 1.01, Lanczos(), blocks=None))
    assert value.device.type == "cuda"
    assert total <= alone + 1, (total, alone)
    bad = a.clone()
    bad[:8, :8] = (2 * torch.eye(8, device="cuda") - 1) / 2000
    with pytest.raises(NotPositiveSemidefiniteError, match="Ritz values prove"):
        entropy_of_normalized(bad, 1.01, Lanczos(), blocks=None)


def test_label_entropy_on_the_device_is_the_closed_form_in_float32():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, size=3000)
    p = np.bincount(y) / len(y)
    expected = float(-(p * np.log2(p)).sum())
    ky = label_gram(torch.tensor(y, device="cuda"))
    value = renyi_entropy(ky, alpha=1, dtype="float32")
    assert value.device.type == "cuda"
    assert value.item() == pytest.approx(expected, abs=1e-12)


def test_class_blocks_are_found_and_batched_on_the_device():
    from infoflow.measures.spectrum import block_eigvalsh, block_labels

    rng = np.random.default_rng(2)
    y = rng.integers(0, 10, size=1500)
    joint = gaussian_gram(rng.normal(size=(1500, 4)), 1.5) * label_gram(y) / 1500
    cuda = torch.tensor(joint, device="cuda")
    labels = block_labels(cuda)
    np.testing.assert_array_equal(labels[:, None] == labels[None, :], y[:, None] == y[None, :])
    np.testing.assert_allclose(np.sort(block_eigvalsh(cuda).cpu().numpy()),
                               np.linalg.eigvalsh(joint), atol=1e-13)


def test_silverman_width_on_the_device_equals_the_cpus():
    from infoflow import kernel_width

    x = np.random.default_rng(3).normal(size=(500, 7)) * 4
    assert kernel_width(torch.tensor(x, device="cuda")) == pytest.approx(kernel_width(x),
                                                                          rel=1e-12)


def test_thread_budget_leaves_the_device_alone():
    from infoflow import thread_budget

    x = torch.randn(400, 5, device="cuda", dtype=torch.float64)
    with thread_budget(1):
        value = renyi_entropy(gaussian_gram(x, 1.0))
    assert value.device.type == "cuda" and torch.isfinite(value)


def test_float32_is_solved_where_cuda_is_faster():
    """float32 matrices and stacks below CUDA_FLOAT32_SOLVER_FROM rows are solved in float64
    (cuSOLVER's float32 solvers were slower there); the result stays float32."""
    from infoflow._array import CUDA_FLOAT32_SOLVER_FROM, eigvalsh

    rng = np.random.default_rng(4)
    a = gaussian_gram(rng.normal(size=(600, 4)), 1.0) / 600
    for matrix in (torch.tensor(a, device="cuda"), torch.tensor(np.stack([a, a]), device="cuda")):
        single = eigvalsh(matrix.float())
        assert single.dtype == torch.float32
        torch.testing.assert_close(single, torch.linalg.eigvalsh(matrix.float().double()).float())
    assert 600 < CUDA_FLOAT32_SOLVER_FROM


def test_a_cuda_run_leaves_the_callers_generators_alone(tmp_path):
    from infoflow.training import RunConfig, Trainer

    torch.manual_seed(11)  # seeds the CUDA generators too
    cpu, cuda = torch.get_rng_state(), torch.cuda.get_rng_state()
    Trainer(RunConfig(epochs=1, batch_size=256, probe_size=40, measure_every=3, filters=[2, 3],
                      seed=7, device="cuda"), tmp_path / "run").run(sensitivity=False)
    assert torch.equal(torch.get_rng_state(), cpu)
    assert torch.equal(torch.cuda.get_rng_state(), cuda)


@pytest.mark.parametrize("method", ["exact", "lanczos"])
def test_a_cuda_checkpoint_synchronises_the_same_few_times_whatever_the_layers(method):
    """The monitor's checkpoint on a CUDA model: host reads batched per checkpoint and the
    spectra solved in one batched call per size (each solver call reads its error flag), so the
    count does not grow with the layers; the values are the CPU's."""
    import warnings

    from infoflow.data import load_digits
    from infoflow.models import LeNet5
    from infoflow.monitor import InformationMonitor

    images, labels = load_digits()
    x, y = torch.tensor(images[:1200]), labels[:1200]
    counts = {}
    for layers in (["conv1", "fc2"], ["conv1", "conv2", "fc1", "fc2"]):
        torch.manual_seed(0)
        model = LeNet5(image_size=8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cpu = InformationMonitor(model, x, y, layers=layers, method=method).measure(0).values
            monitor = InformationMonitor(model.cuda(), x, y, layers=layers, method=method)
            monitor.measure(0)  # the first checkpoint sets up the solvers' workspaces
            measured, counts[len(layers)] = count_syncs(lambda m=monitor: m.measure(1))
        for key, value in cpu.items():
            assert measured.values[key] == pytest.approx(value, abs=1e-6), key
    print("synchronisations per checkpoint:", counts)
    assert counts[2] == counts[4] <= 12, counts


def test_host_to_device_does_not_make_the_host_wait():
    from infoflow._array import host_to_device

    a = np.random.default_rng(0).normal(size=(1000, 64))
    host_to_device(a, "cuda")  # warm-up: the page-locked memory pool
    t, syncs = count_syncs(lambda: host_to_device(a, "cuda"))
    assert syncs == 0 and t.device.type == "cuda"
    np.testing.assert_array_equal(t.cpu().numpy(), a)


def test_a_conv_layer_given_whole_stays_on_the_device_and_equals_its_maps():
    from infoflow import joint_gaussian_gram

    t = torch.randn(200, 6, 5, 5, device="cuda", dtype=torch.float64)
    sigmas = [1.0 + c for c in range(6)]
    joint_gaussian_gram(t, sigmas)  # warm-up: the page-locked memory pool
    whole, syncs = count_syncs(lambda: joint_gaussian_gram(t, sigmas))
    listed, listed_syncs = count_syncs(
        lambda: joint_gaussian_gram([t[:, c] for c in range(6)], sigmas))
    # the widths go to the device without a wait: no more reads than the list of maps takes
    assert whole.device.type == "cuda" and syncs <= listed_syncs, (syncs, listed_syncs)
    torch.testing.assert_close(whole, listed, rtol=0, atol=1e-13)
