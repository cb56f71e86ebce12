using Dls.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Training;

[Collection("TorchGlobalState")]
public sealed class FusedAdamTests
{
    /// <summary>
    /// Parameters of the shapes that matter: a large matrix (several parallel chunks when 2+ threads), an odd-length
    /// vector (a scalar tail after the vector loop) and a transposed view (not contiguous: the composite path).
    /// </summary>
    private static Parameter[] MakeParameters(int seed)
    {
        var generator = new Generator((ulong)seed);
        return
        [
            new Parameter(randn(300, 700, generator: generator)),
            new Parameter(randn(37, generator: generator)),
            new Parameter(randn(20, 30, generator: generator).t()),
        ];
    }

    private static void SetGradients(Parameter[] parameters, int step)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(1000 + step));
        foreach (var p in parameters)
        {
            // Gradients of mixed magnitude, with exact zeros, so ε and the √v branch both matter.
            var g = (randn(p.shape, generator: generator) * (rand(p.shape, generator: generator) > 0.1).to(ScalarType.Float32)).mul(step % 2 == 0 ? 1e-3 : 3.0);
            // A non-contiguous parameter gets a gradient with its own strides.
            p.grad = p.is_contiguous() ? g : g.t().contiguous().t();
        }
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.0)]
    [InlineData(2, 0.01)]
    public void Step_ManySteps_MatchesTorchSharpAdam(int threads, double weightDecay)
    {
        int saved = torch.get_num_threads();
        torch.set_num_threads(threads);
        try
        {
            var reference = MakeParameters(5);
            var fused = MakeParameters(5);
            using var referenceOptimizer = torch.optim.Adam(reference, 2e-3, weight_decay: weightDecay);
            using var fusedOptimizer = new FusedAdam(fused, 2e-3, weightDecay: weightDecay);
            for (int step = 1; step <= 12; step++)
            {
                SetGradients(reference, step);
                SetGradients(fused, step);
                referenceOptimizer.step();
                fusedOptimizer.step();
            }

            for (int i = 0; i < reference.Length; i++)
            {
                // Same float32 arithmetic in a different order (multiply by 1/√(1−β2ᵗ) instead of dividing by √(1−β2ᵗ),
                // SIMD lanes): after 12 steps of size ≤ 2e-3 the parameters agree to a few float32 ulps of values ~1.
                float maxError = (reference[i] - fused[i]).abs().max().item<float>();
                Assert.True(maxError < 1e-5f, $"parameter {i}: max |difference| {maxError}");
                Assert.False(reference[i].allclose(MakeParameters(5)[i]), "the parameters did move");
            }
        }
        finally
        {
            torch.set_num_threads(saved);
        }
    }

    [Fact]
    public void StateDict_SaveLoad_ContinuesIdentically()
    {
        // Contiguous parameters only: TorchSharp cannot save the moments of a transposed parameter (not contiguous).
        var a = MakeParameters(7).Take(2).ToArray();
        using var fused = new FusedAdam(a, 1e-3);
        for (int step = 1; step <= 3; step++)
        {
            SetGradients(a, step);
            fused.step();
        }

        // The saved state (step count and both moments) loaded into a fresh optimizer over copied parameters continues
        // exactly like the original.
        string path = Path.GetTempFileName();
        try
        {
            fused.save_state_dict(path);
            var b = a.Select(p => new Parameter(p.detach().clone())).ToArray();
            using var plain = new FusedAdam(b, 1e-3);
            plain.load_state_dict(path);
            SetGradients(a, 4);
            SetGradients(b, 4);
            fused.step();
            plain.step();
            for (int i = 0; i < a.Length; i++)
            {
                // Same code on the same values: bit-identical.
                Assert.True(a[i].equal(b[i]).all().item<bool>(), $"parameter {i} differs after resuming");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Step_ParameterWithoutGradient_IsLeftAlone()
    {
        var p = new Parameter(ones(10));
        using var fused = new FusedAdam([p], 0.1);
        fused.step();
        Assert.True(p.eq(1).all().item<bool>());
    }
}
