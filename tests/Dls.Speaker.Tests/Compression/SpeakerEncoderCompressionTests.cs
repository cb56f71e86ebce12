using Dls.Speaker.Compression;
using Dls.Speaker.Encoders;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Compression;

[Collection("TorchGlobalState")]
public sealed class SpeakerEncoderCompressionTests
{
    private static readonly GruSpeakerEncoderOptions Small = new() { InputSize = 20, HiddenSize = 6, EmbeddingSize = 5 };

    [Fact]
    public void Compress_FullRank_KeepsTheFunction()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var dense = new GruSpeakerEncoder(Small);
        dense.eval();
        // Full ranks: min(20, 36) for the input weights, min(12, 5) for the FC — an exact refactorization.
        using var compressed = SpeakerEncoderCompression.Compress(dense, inputRank: 20, outputRank: 5);
        var x = randn(2, 9, 20);
        var lengths = tensor(new long[] { 9, 6 });
        // SVD round trip in float32 (values ~1): 1e-4 absolute.
        Assert.True(allclose(dense.forward(x, lengths), compressed.forward(x, lengths), rtol: 1e-4, atol: 1e-4));
        Assert.Equal(20, compressed.Options.InputProjectionRank);
        Assert.Equal(5, compressed.Options.OutputRank);
    }

    [Fact]
    public void Measure_LowRank_CountsFewerParametersAndMacs()
    {
        using var dense = new GruSpeakerEncoder(new GruSpeakerEncoderOptions());
        using var small = SpeakerEncoderCompression.Compress(dense, inputRank: 64, outputRank: 32);
        var before = SpeakerEncoderCompression.Measure(dense);
        var after = SpeakerEncoderCompression.Measure(small);
        // Dense: GRU weights 2·3·256·(513+256) = 1,181,184 MACs/frame; FC 512·256 = 131,072 MACs/utterance.
        Assert.Equal(1_181_184, before.MacsPerFrame);
        Assert.Equal(131_072, before.MacsPerUtterance);
        // Rank 64: projection 64·513 + GRU 2·3·256·(64+256); FC 32·(512+256).
        Assert.Equal(64 * 513 + 2 * 3 * 256 * (64 + 256), after.MacsPerFrame);
        Assert.Equal(32 * (512 + 256), after.MacsPerUtterance);
        Assert.True(after.Parameters < before.Parameters / 2);
    }

    [Fact]
    public void Compress_AlreadyCompressed_Throws()
    {
        using var dense = new GruSpeakerEncoder(Small);
        using var once = SpeakerEncoderCompression.Compress(dense, 4, 0);
        Assert.Contains("dense encoder", Assert.Throws<ArgumentException>(() => SpeakerEncoderCompression.Compress(once, 4, 0)).Message);
    }

    [Theory]
    [InlineData(-1, 0, "inputRank", "inputRank must be in [0, 20], found -1.")]
    [InlineData(21, 0, "inputRank", "inputRank must be in [0, 20], found 21.")]      // min(InputSize 20, 6·hidden 36)
    [InlineData(0, -1, "outputRank", "outputRank must be in [0, 5], found -1.")]
    [InlineData(0, 6, "outputRank", "outputRank must be in [0, 5], found 6.")]        // min(2·hidden 12, EmbeddingSize 5)
    public void Compress_RankOutOfRange_ThrowsNamingRangeAndRank(int inputRank, int outputRank, string parameter, string expected)
    {
        using var dense = new GruSpeakerEncoder(Small);
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEncoderCompression.Compress(dense, inputRank, outputRank));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Compress_NonFiniteGruInputWeight_RethrowsTheFactorizationError()
    {
        // A model trained to NaN: the copy made so far is released and the factorization's own error comes out unchanged.
        using var dense = new GruSpeakerEncoder(Small);
        using (NewDisposeScope())
        using (no_grad())
            dense.state_dict()["gru.weight_ih_l0_reverse"].view(-1)[7].fill_(float.NaN);
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEncoderCompression.Compress(dense, inputRank: 4, outputRank: 0));
        // Both directions' input weights are factored together: (2·3·6) × 20 = 36 × 20 values.
        Assert.Contains("Expected a finite weight; found 1 NaN or infinite value(s) among its 720 (36×20).", ex.Message);
        Assert.Equal("weight", ex.ParamName);
    }
}
