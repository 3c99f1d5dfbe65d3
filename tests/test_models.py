"""Tests of the S3RNet network, its presets and its complexity counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from s3rnet.errors import ConfigError, ShapeError
from s3rnet.models import (
    BRANCH_NAMES,
    DFAB,
    SSAWB,
    GroupedResidualGroup,
    ResidualGroup,
    S3RNetOutput,
    build_model,
    count_macs,
    count_parameters,
    list_presets,
    model_info,
)

# Paper, Table I: 172 bands, 4 MSI bands, 256x256 output.
PAPER_PARAMS = 26.81e6
PAPER_MACS = 941.77e9
TOLERANCE = 0.005


def tiny(bands: int = 6, msi_bands: int = 3, **overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("tiny", bands, msi_bands, **overrides)


def inputs(bands, msi_bands, h, ratio=4, batch=1, w=None):
    """A random (LR-HSI, HR-MSI) pair of LR size h x w (w = h unless given)."""
    w = h if w is None else w
    generator = torch.Generator().manual_seed(1)
    lrhsi = torch.rand(batch, bands, h, w, generator=generator)
    hrmsi = torch.rand(batch, msi_bands, ratio * h, ratio * w, generator=generator)
    return lrhsi, hrmsi


# --------------------------------------------------------------------------------------------
# Complexity of the paper preset
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("msi_bands", [4, 6])
def test_paper_parameters_match_table_1(msi_bands):
    params = model_info("paper", 172, msi_bands, 256)["params"]
    assert abs(params / PAPER_PARAMS - 1) < TOLERANCE


def test_paper_macs_match_table_1():
    macs = model_info("paper", 172, 4, 256)["macs"]
    assert abs(macs / PAPER_MACS - 1) < TOLERANCE


def test_model_info_keys():
    info = model_info("tiny", 10, 4, 32)
    assert info.keys() == {"preset", "bands", "msi_bands", "size", "params", "macs"}
    assert (info["preset"], info["bands"], info["msi_bands"], info["size"]) == ("tiny", 10, 4, 32)


def test_count_macs_leaves_the_model_usable():
    model = tiny(5, 2)
    macs = count_macs(model, 5, 2, 16)
    assert macs == model_info("tiny", 5, 2, 16)["macs"]
    assert all(parameter.device.type == "cpu" for parameter in model.parameters())
    assert model(*inputs(5, 2, 4)).shape == (1, 5, 16, 16)


def test_count_macs_of_a_single_convolution():
    class OneConv(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 7, 3, padding=1)

        def forward(self, lrhsi, hrmsi):
            return self.conv(hrmsi)

    assert count_macs(OneConv(), 2, 3, 8) == 3 * 7 * 9 * 8 * 8


def test_count_macs_rejects_a_size_off_the_ratio():
    with pytest.raises(ShapeError, match="multiple of the ratio"):
        count_macs(tiny(), 6, 3, 30)


# --------------------------------------------------------------------------------------------
# Forward pass
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bands", "msi_bands", "h", "ratio", "batch"),
    [(6, 3, 4, 4, 1), (31, 4, 3, 4, 2), (17, 6, 5, 4, 1), (9, 1, 4, 2, 1), (8, 3, 2, 8, 1)],
)
def test_forward_shape(bands, msi_bands, h, ratio, batch):
    model = tiny(bands, msi_bands, ratio=ratio)
    fused = model(*inputs(bands, msi_bands, h, ratio, batch))
    assert fused.shape == (batch, bands, ratio * h, ratio * h)


def test_forward_non_square():
    model = tiny()
    assert model(*inputs(6, 3, 3, w=5)).shape == (1, 6, 12, 20)


def test_extras():
    model = build_model("tiny", 6, 3, groups_q=2, groups_k=1, groups_v=3, groups_z=2)
    lrhsi, hrmsi = inputs(6, 3, 4, batch=2)
    out = model(lrhsi, hrmsi, return_extras=True)
    nf = model.config.nf
    assert isinstance(out, S3RNetOutput)
    assert torch.equal(out.fused, model(lrhsi, hrmsi))
    assert out.weights.shape == (2, 4, 16, 16)
    assert bool(((out.weights > 0) & (out.weights < 1)).all())
    assert set(out.branches) == set(BRANCH_NAMES)
    for name in BRANCH_NAMES:
        assert out.branches[name].shape == (2, nf, 16, 16)
    assert out.fused_features.shape == (2, nf, 16, 16)
    layer_counts = {name: len(layers) for name, layers in out.layers.items()}
    assert layer_counts == {"Q": 2, "K": 1, "V": 3, "Z": 2}
    for name, layers in out.layers.items():
        assert all(layer.shape == (2, nf, 16, 16) for layer in layers)
        assert torch.equal(layers[-1], out.branches[name])


def test_low_resolution_branches_are_upsampled_by_nearest_neighbour():
    out = tiny()(*inputs(6, 3, 4), return_extras=True)
    for name in ("Q", "V"):
        features = out.branches[name]
        assert torch.equal(features, F.interpolate(features[..., ::4, ::4], scale_factor=4))
    # The high-resolution branches are not piecewise constant on 4x4 blocks.
    for name in ("K", "Z"):
        features = out.branches[name]
        assert not torch.equal(features, F.interpolate(features[..., ::4, ::4], scale_factor=4))


def test_a_network_runs_at_another_ratio_only_when_told_and_upsamples_by_it():
    model = tiny().eval()
    lrhsi, hrmsi = inputs(6, 3, 4, ratio=3)
    with pytest.raises(ShapeError, match="at ratio 4 the HR-MSI must be 16x16"):
        model(lrhsi, hrmsi)
    with pytest.raises(ShapeError, match="at ratio 2 the HR-MSI must be 8x8"):
        model(lrhsi, hrmsi, ratio=2)
    with torch.no_grad():
        out = model(lrhsi, hrmsi, return_extras=True, ratio=3)
    assert out.fused.shape == (1, 6, 12, 12)
    for name in ("Q", "V"):
        features = out.branches[name]
        assert torch.equal(features, F.interpolate(features[..., ::3, ::3], scale_factor=3))
    # At the ratio it was built for, saying so changes nothing.
    at_four = inputs(6, 3, 4)
    with torch.no_grad():
        assert torch.equal(model(*at_four), model(*at_four, ratio=4))


def test_branch_roles_follow_the_paper_figure_3():
    """V = Cat(X_h, down(X_m)) at the LR size, Z = Cat(up(X_h), X_m) at the HR size (C + M each)."""
    bands, msi_bands, h = 6, 3, 5
    model = tiny(bands, msi_bands)
    seen = {}
    hooks = [
        model.mbfn.branches[name].entry.register_forward_hook(
            lambda module, args, output, name=name: seen.__setitem__(name, args[0])
        )
        for name in BRANCH_NAMES
    ]
    lrhsi, hrmsi = inputs(bands, msi_bands, h)
    model(lrhsi, hrmsi)
    for hook in hooks:
        hook.remove()
    assert seen["Q"].shape == (1, bands, h, h) and torch.equal(seen["Q"], lrhsi)
    assert seen["K"].shape == (1, msi_bands, 4 * h, 4 * h) and torch.equal(seen["K"], hrmsi)
    assert seen["V"].shape == (1, bands + msi_bands, h, h)
    assert torch.equal(seen["V"][:, :bands], lrhsi)
    down = F.interpolate(hrmsi, size=(h, h), mode="bicubic", align_corners=False)
    assert torch.allclose(seen["V"][:, bands:], down)
    assert seen["Z"].shape == (1, bands + msi_bands, 4 * h, 4 * h)
    up = F.interpolate(lrhsi, size=(4 * h, 4 * h), mode="bilinear", align_corners=False)
    assert torch.allclose(seen["Z"][:, :bands], up) and torch.equal(seen["Z"][:, bands:], hrmsi)


def test_ssawb_reads_v_through_the_value_projection_and_adds_to_z():
    """Eq. 3: with the value projection zeroed, Z' = Conv1x1(0) + F_Z, so F_V leaves Z' alone."""
    torch.manual_seed(0)
    block = SSAWB(8, attn_dim=8, heads=2)
    f_q, f_k, f_v, f_z = torch.rand(4, 2, 8, 3, 3)
    fused, weights = block(f_q, f_k, f_v, f_z)
    w_q, w_k, w_v, w_z = weights.split(1, dim=1)
    z_prime = (fused - w_q * f_q - w_k * f_k - w_v * f_v) / w_z
    value = block.to_value(f_v).reshape(2, 2, 4, 9)
    query = block.to_query(f_q).reshape(2, 2, 4, 9)
    key = block.to_key(f_k).reshape(2, 2, 4, 9)
    attention = torch.softmax(query @ key.transpose(-2, -1) / 2.0, dim=-1)
    expected = block.project_out((attention @ value).reshape(2, 8, 3, 3)) + f_z
    assert torch.allclose(z_prime, expected, atol=1e-5)


def test_authors_attention_is_each_heads_channel_sum_of_v():
    torch.manual_seed(0)
    paper, authors = SSAWB(8, 8, 2), SSAWB(8, 8, 2, attention="authors")
    authors.load_state_dict(paper.state_dict())
    f_q, f_k, f_v, f_z = torch.rand(4, 2, 8, 3, 3)
    fused, _ = authors(f_q, f_k, f_v, f_z)
    # Other query and key projections leave the output unchanged.
    with torch.no_grad():
        authors.to_query.weight.normal_()
        authors.to_key.weight.normal_()
    assert torch.allclose(fused, authors(f_q, f_k, f_v, f_z)[0], atol=1e-6)
    assert not torch.allclose(fused, paper(f_q, f_k, f_v, f_z)[0], atol=1e-4)
    value = authors.to_value(f_v).reshape(2, 2, 4, 9)
    summed = value.sum(dim=2, keepdim=True).expand(-1, -1, 4, -1).reshape(2, 8, 3, 3)
    weights = torch.sigmoid(authors.to_weight_logits(torch.cat(
        [f_q, f_k, f_v, authors.project_out(summed) + f_z], dim=1)))
    assert torch.allclose(
        fused,
        sum(w * f for w, f in zip(weights.split(1, dim=1), (f_q, f_k, f_v, authors.project_out(summed) + f_z))),
        atol=1e-5,
    )


def test_authors_attention_gives_query_and_key_no_gradient():
    model = tiny(attention="authors")
    lrhsi, hrmsi = inputs(6, 3, 4)
    model(lrhsi, hrmsi).abs().mean().backward()
    ssawb = model.fusion
    for conv in (ssawb.to_query, ssawb.to_key):
        assert conv.weight.grad.abs().max() < 1e-7
    assert ssawb.to_value.weight.grad.abs().max() > 1e-5
    assert count_parameters(model) == count_parameters(tiny())


def test_sum_fusion_ablation():
    ssawb_model, sum_model = tiny(), tiny(fusion="sum")
    assert count_parameters(ssawb_model) - count_parameters(sum_model) == count_parameters(
        ssawb_model.fusion
    )
    assert count_parameters(ssawb_model.fusion) > 0
    out = sum_model(*inputs(6, 3, 4), return_extras=True)
    assert out.weights is None
    assert out.fused.shape == (1, 6, 16, 16)
    branch_sum = sum(out.branches[name] for name in BRANCH_NAMES)
    assert torch.allclose(out.fused_features, branch_sum)


def test_grouped_residual_groups():
    plain, grouped = tiny(), build_model("tiny", 6, 3, conv_groups=2)
    assert isinstance(grouped.mbfn.branches["K"].residual_groups[0], GroupedResidualGroup)
    assert count_parameters(grouped) < count_parameters(plain)
    assert grouped(*inputs(6, 3, 4)).shape == (1, 6, 16, 16)


def test_bicubic_skip_learns_the_residual_over_bicubic_upsampling():
    model = tiny(skip="bicubic")
    assert count_parameters(model) == count_parameters(tiny())
    with torch.no_grad():
        model.reconstruction[-1].weight.zero_()
    lrhsi, hrmsi = inputs(6, 3, 4)
    expected = F.interpolate(lrhsi, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(model(lrhsi, hrmsi), expected, atol=1e-6)


def test_estimate_skip_starts_as_the_estimate_and_needs_one():
    model = tiny(skip="estimate")
    assert count_parameters(model) == count_parameters(tiny())
    lrhsi, hrmsi = inputs(6, 3, 4)
    estimate = torch.rand(1, 6, 16, 16)
    assert torch.equal(model(lrhsi, hrmsi, estimate=estimate), estimate)
    with pytest.raises(ShapeError, match="pass estimate="):
        model(lrhsi, hrmsi)
    with pytest.raises(ShapeError, match="expected"):
        model(lrhsi, hrmsi, estimate=estimate[..., :8])
    with pytest.raises(ShapeError, match="skip is 'none'"):
        tiny()(lrhsi, hrmsi, estimate=estimate)


def test_reconstruction_last_convolution_has_no_bias():
    model = tiny()
    assert model.reconstruction[-1].bias is None
    assert model.reconstruction[0].bias is not None


def test_one_training_step_decreases_l1_loss():
    model = tiny()
    lrhsi, hrmsi = inputs(6, 3, 4)
    target = F.interpolate(lrhsi, scale_factor=4, mode="bilinear", align_corners=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        loss = F.l1_loss(model(lrhsi, hrmsi), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(parameter.grad is not None for parameter in model.parameters())
    assert losses[1] < losses[0]


# --------------------------------------------------------------------------------------------
# SSAWB
# --------------------------------------------------------------------------------------------


def test_ssawb_weights_are_independent_sigmoids():
    torch.manual_seed(0)
    block = SSAWB(nf=8, attn_dim=8, heads=2)
    features = [torch.randn(1, 8, 6, 6) for _ in range(4)]
    fused, weights = block(*features)
    assert fused.shape == (1, 8, 6, 6)
    assert weights.shape == (1, 4, 6, 6)
    assert not torch.allclose(weights.sum(dim=1), torch.ones(1, 6, 6))


def test_ssawb_weights_are_per_pixel():
    # F_Z enters Z' = Conv1x1(A v) + F_Z pixel by pixel, so changing it at one pixel must change
    # the weights there and nowhere else.
    torch.manual_seed(0)
    block = SSAWB(nf=8, attn_dim=8, heads=2)
    f_q, f_k, f_v, f_z = (torch.randn(1, 8, 6, 6) for _ in range(4))
    _, weights = block(f_q, f_k, f_v, f_z)
    f_z_changed = f_z.clone()
    f_z_changed[..., 2, 3] += 5.0
    _, weights_changed = block(f_q, f_k, f_v, f_z_changed)
    changed = (weights_changed - weights).abs().amax(dim=1)[0] > 1e-6
    expected = torch.zeros(6, 6, dtype=torch.bool)
    expected[2, 3] = True
    assert torch.equal(changed, expected)


def test_ssawb_fuses_with_the_weights():
    torch.manual_seed(0)
    block = SSAWB(nf=4, attn_dim=4, heads=1)
    with torch.no_grad():
        block.project_out.weight.zero_()
        block.project_out.bias.zero_()
    f_q, f_k, f_v, f_z = (torch.randn(2, 4, 5, 5) for _ in range(4))
    fused, weights = block(f_q, f_k, f_v, f_z)
    # With the attention projection zeroed, Z' = F_Z and eq. 6 can be written out.
    expected = sum(weights[:, i : i + 1] * f for i, f in enumerate((f_q, f_k, f_v, f_z)))
    assert torch.allclose(fused, expected, atol=1e-6)


# --------------------------------------------------------------------------------------------
# DFAB and residual groups
# --------------------------------------------------------------------------------------------


def test_dfab_dense_connectivity():
    nf, gc = 10, 4
    block = DFAB(nf, gc)
    assert [conv.in_channels for conv in block.convs] == [nf + j * gc for j in range(5)]
    assert [conv.out_channels for conv in block.convs] == [gc, gc, gc, gc, nf]
    assert all(conv.kernel_size == (3, 3) and conv.padding == (1, 1) for conv in block.convs)


def test_dfab_residual_scaling():
    block = DFAB(6, 3)
    with torch.no_grad():
        for conv in block.convs:
            conv.weight.zero_()
            conv.bias.zero_()
    features = torch.randn(2, 6, 5, 5)
    assert torch.equal(block(features), features)
    with torch.no_grad():
        block.convs[-1].bias.fill_(1.0)
    assert torch.allclose(block(features), features + 0.2)


def test_residual_group_scaling():
    group = ResidualGroup(6, 3)
    assert len(group.body) == 3
    with torch.no_grad():
        for dfab in group.body:
            for conv in dfab.convs:
                conv.weight.zero_()
                conv.bias.zero_()
        group.body[-1].convs[-1].bias.fill_(1.0)
    features = torch.randn(1, 6, 4, 4)
    # The body is then x + 0.2 (only the last DFAB adds something), and the group scales the
    # whole body output, as in RG(x) = 0.2 * body(x) + x.
    assert torch.allclose(group(features), 0.2 * (features + 0.2) + features)


def test_grouped_dfab_rejects_indivisible_channels():
    with pytest.raises(ConfigError, match="groups"):
        DFAB(6, 3, groups=2)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lrhsi_shape", "hrmsi_shape", "message"),
    [
        ((1, 6, 4, 4), (1, 3, 18, 16), "not a multiple of the ratio"),
        ((1, 6, 4, 4), (1, 3, 16, 14), "not a multiple of the ratio"),
        ((1, 7, 4, 4), (1, 3, 16, 16), "LR-HSI has 7 bands but the model was built for 6"),
        ((1, 6, 4, 4), (1, 4, 16, 16), "HR-MSI has 4 bands but the model was built for 3"),
        ((1, 6, 4, 4), (1, 3, 20, 16), "HR-MSI is 20x16 but the LR-HSI is 4x4"),
        ((6, 4, 4), (1, 3, 16, 16), "LR-HSI must be a 4-D tensor"),
        ((1, 6, 4, 4), (3, 16, 16), "HR-MSI must be a 4-D tensor"),
        ((2, 6, 4, 4), (1, 3, 16, 16), "batch sizes differ"),
    ],
)
def test_shape_errors(lrhsi_shape, hrmsi_shape, message):
    with pytest.raises(ShapeError, match=message):
        tiny()(torch.zeros(lrhsi_shape), torch.zeros(hrmsi_shape))


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        build_model("huge", 6, 3)


def test_unknown_option_and_impossible_values():
    with pytest.raises(ConfigError, match="unknown S3RNet option"):
        build_model("tiny", 6, 3, depth=3)
    with pytest.raises(ConfigError, match="fusion"):
        build_model("tiny", 6, 3, fusion="concat")
    with pytest.raises(ConfigError, match="multiple of heads"):
        build_model("tiny", 6, 3, attn_dim=9)
    with pytest.raises(ConfigError, match="bands"):
        build_model("tiny", 0, 3)


def test_presets_are_listed():
    assert {"paper", "lite", "tiny"} <= set(list_presets())
    for name in list_presets():
        assert model_info(name, 8, 3, 16)["params"] > 0


def test_extras_without_layers_give_the_same_result():
    model = tiny().eval()
    lrhsi, hrmsi = inputs(6, 3, 4)
    with torch.no_grad():
        full = model(lrhsi, hrmsi, return_extras=True)
        light = model(lrhsi, hrmsi, return_extras=True, keep_layers=False)
    assert all(full.layers[name] for name in full.layers)
    assert not any(light.layers[name] for name in light.layers)
    assert torch.equal(full.fused, light.fused) and torch.equal(full.weights, light.weights)
