using Dls.Speaker.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Encoders;

public sealed class GruSpeakerEncoderTests
{
    private static readonly GruSpeakerEncoderOptions Small = new() { InputSize = 12, HiddenSize = 8, EmbeddingSize = 6 };

    [Fact]
    public void Forward_BatchedWithLongerUtterances_EmbeddingUnchanged()
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(Small);
        encoder.eval();
        var generator = new Generator(1234);
        var shortUtt = randn(1, 5, 12, generator: generator);
        var alone = encoder.forward(shortUtt, tensor(new long[] { 5 }));

        // Batch it between two longer utterances; its padding holds large garbage that must not leak in.
        var batch = randn(3, 11, 12, generator: generator) * 100;
        batch[1, ..5] = shortUtt[0];
        var together = encoder.forward(batch, tensor(new long[] { 11, 5, 9 }));

        // Packed GRU and masked mean make the result identical up to float32 summation order (1e-5 relative).
        Assert.True(allclose(alone[0], together[1], rtol: 1e-5, atol: 1e-6), "short utterance embedding changed when batched");
        var norms = together.norm(1).data<float>().ToArray();
        Assert.All(norms, n => Assert.Equal(1.0, n, 1e-5));
    }

    [Fact]
    public void Forward_EqualLengths_MatchesPackedPath()
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(Small with { InputProjectionRank = 4 });
        var x = randn(2, 7, 12, generator: new Generator(3));
        var full = encoder.forward(x, tensor(new long[] { 7, 7 }));
        var second = encoder.forward(x[1..2, ..7], tensor(new long[] { 7 }));
        Assert.True(allclose(full[1], second[0], rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void StateDict_UsesReferenceKeys()
    {
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions());
        var keys = encoder.state_dict().Keys.ToHashSet();
        Assert.Contains("gru.weight_ih_l0", keys);
        Assert.Contains("gru.weight_hh_l0_reverse", keys);
        Assert.Contains("fc.weight", keys);
        Assert.Contains("input_mean", keys);
        // BiGRU 2·3·256·(513+256) + 2·2·3·256 biases, FC 512·256 + 256, two 513-vectors of statistics.
        long expected = 2 * 3 * 256 * (513 + 256) + 2 * 2 * 3 * 256 + 512 * 256 + 256;
        Assert.Equal(expected, encoder.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
    }

    [Fact]
    public void Forward_BadLengths_ThrowsWithShapes()
    {
        using var encoder = new GruSpeakerEncoder(Small);
        using var x = zeros(2, 4, 12);
        using var lengths = tensor(new long[] { 4, 5 });
        var ex = Assert.Throws<ArgumentException>(() => encoder.forward(x, lengths));
        Assert.Contains("[1, 4]", ex.Message);
        using var bad = zeros(2, 4, 13);
        Assert.Contains("(batch, frames, 12)", Assert.Throws<ArgumentException>(() => encoder.forward(bad, lengths)).Message);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new GruSpeakerEncoder(new GruSpeakerEncoderOptions { HiddenSize = 0, EmbeddingSize = -1 }));
        Assert.Contains("HiddenSize", ex.Message);
        Assert.Contains("EmbeddingSize", ex.Message);
    }

    [Fact]
    public void Forward_Float64Features_ThrowsWithDtype()
    {
        using var encoder = new GruSpeakerEncoder(Small);
        using var x = zeros(1, 4, 12, ScalarType.Float64);
        using var lengths = tensor(new long[] { 4 });
        var ex = Assert.Throws<ArgumentException>(() => encoder.forward(x, lengths));
        Assert.Contains("Float32", ex.Message);
        Assert.Contains("found Float64", ex.Message);
    }

    [Fact]
    public void Forward_FloatLengths_ThrowsInsteadOfTruncating()
    {
        using var encoder = new GruSpeakerEncoder(Small);
        using var x = zeros(1, 4, 12);
        using var lengths = tensor(new float[] { 2.7f });
        var ex = Assert.Throws<ArgumentException>(() => encoder.forward(x, lengths));
        Assert.Contains("integer", ex.Message);
        Assert.Contains("found Float32", ex.Message);
        Assert.Equal("lengths", ex.ParamName);
    }

    [Fact]
    public void Forward_EmptyBatch_ThrowsWithShape()
    {
        using var encoder = new GruSpeakerEncoder(Small);
        using var x = zeros(0, 5, 12);
        using var lengths = zeros(0, ScalarType.Int64);
        var ex = Assert.Throws<ArgumentException>(() => encoder.forward(x, lengths));
        Assert.Contains("found (0, 5, 12)", ex.Message);
    }

    [Fact]
    public void SetInputNormalization_NonFiniteValue_ThrowsNamingBin()
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(Small);
        var mean = zeros(12);
        mean[3] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => encoder.SetInputNormalization(mean, ones(12)));
        Assert.Contains("Expected finite values in mean; found NaN at [3] (mean [12])", nan.Message);
        var scale = ones(12);
        scale[11] = float.PositiveInfinity;
        var inf = Assert.Throws<ArgumentException>(() => encoder.SetInputNormalization(zeros(12), scale));
        Assert.Contains("Expected finite values in scale; found Infinity at [11]", inf.Message);
        // Nothing was copied in: the encoder still embeds finitely.
        using var noGrad = no_grad();
        Assert.True(encoder.forward(randn(1, 3, 12), tensor(new long[] { 3 })).isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(new long[] { 11 }, new long[] { 12 }, "found (11) and (12)")]
    [InlineData(new long[] { 12 }, new long[] { 1, 12 }, "found (12) and (1, 12)")]
    public void SetInputNormalization_WrongShape_ThrowsWithBothShapes(long[] meanShape, long[] scaleShape, string found)
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(Small);
        var ex = Assert.Throws<ArgumentException>(() => encoder.SetInputNormalization(zeros(meanShape), ones(scaleShape)));
        Assert.Contains($"Expected mean and scale of shape (12), {found}.", ex.Message);
    }

    [Theory]
    [InlineData(new long[] { 3 }, "found (3)")]          // one length too many for a batch of 2
    [InlineData(new long[] { 2, 1 }, "found (2, 1)")]    // a column instead of a vector
    public void Forward_LengthsOfAnotherShape_ThrowsWithShapes(long[] lengthsShape, string found)
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(Small);
        var lengths = tensor(Enumerable.Repeat(4L, (int)lengthsShape.Aggregate(1L, (a, b) => a * b)).ToArray()).reshape(lengthsShape);
        var ex = Assert.Throws<ArgumentException>(() => encoder.forward(zeros(2, 4, 12), lengths));
        Assert.Equal("lengths", ex.ParamName);
        Assert.Contains($"Expected lengths of shape (2), {found}.", ex.Message);
    }
}
