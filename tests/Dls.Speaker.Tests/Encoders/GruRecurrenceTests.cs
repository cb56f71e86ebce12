using Dls.Speaker.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Encoders;

/// <summary>
/// The managed recurrence against libtorch's GRU. Tolerance 1e-5: both compute in float32 and differ only in
/// summation order and in how exp/tanh are evaluated (a few ulps per step over ≤ 31 steps of values ≤ 1 in
/// magnitude); a wrong gate order, bias or direction shows up at 1e-2 or more.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class GruRecurrenceTests
{
    [Theory]
    [InlineData(16, 8, false)]    // whole 8-float vectors
    [InlineData(19, 13, false)]   // tails in the matrix-vector product and in the gate update
    [InlineData(19, 13, true)]
    public void MeanHiddenState_MatchesTorchGru(int input, int hidden, bool reverse)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(11);
        using var gru = nn.GRU(input, hidden, batchFirst: true);
        const int frames = 31;
        var x = randn(1, frames, input, generator: new Generator(5)) * 2;
        var sequence = reverse ? x.flip(1) : x;
        var (output, _) = gru.call(sequence, null);
        var expected = output.mean([1])[0].data<float>().ToArray();

        var gates = nn.functional.linear(x[0], gru.get_parameter("weight_ih_l0")!, gru.get_parameter("bias_ih_l0")!).contiguous();
        var mean = new float[hidden];
        GruRecurrence.MeanHiddenState(gates.data<float>().ToArray(), gru.get_parameter("weight_hh_l0")!.data<float>().ToArray(),
            gru.get_parameter("bias_hh_l0")!.data<float>().ToArray(), reverse, mean);

        for (int j = 0; j < hidden; j++) Assert.Equal(expected[j], mean[j], 1e-5);
        Assert.Contains(mean, v => Math.Abs(v) > 1e-2);   // not a degenerate all-zero state
    }

    [Fact]
    public void MatVec_RowAndColumnTails_MatchesPlainSum()
    {
        var random = new Random(3);
        const int rows = 7, cols = 19;
        var w = Enumerable.Range(0, rows * cols).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var x = Enumerable.Range(0, cols).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, rows).Select(_ => (float)random.NextDouble()).ToArray();
        var y = new float[rows];
        GruRecurrence.MatVec(w, x, b, y);
        for (int r = 0; r < rows; r++)
        {
            double expected = b[r];
            for (int k = 0; k < cols; k++) expected += (double)w[r * cols + k] * x[k];
            Assert.Equal(expected, y[r], 1e-5);   // 19 float products of values < 0.5: rounding well under 1e-6
        }
    }

    [Fact]
    public void MeanHiddenState_WrongSizes_ThrowsWithCounts()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            GruRecurrence.MeanHiddenState(new float[12], new float[10], new float[6], false, new float[2]));
        Assert.Contains("12", error.Message);
        Assert.Contains("weights of 6×2", error.Message);
    }

    [Theory]
    [InlineData(12, 8, 0, 0)]
    [InlineData(37, 13, 0, 0)]
    [InlineData(40, 24, 6, 3)]   // low-rank input projection and output layer
    public void EncoderForward_OneUtteranceUnderNoGrad_ManagedEqualsTorch(int input, int hidden, int projectionRank, int outputRank)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions
        {
            InputSize = input, HiddenSize = hidden, EmbeddingSize = 6, InputProjectionRank = projectionRank, OutputRank = outputRank,
        });
        encoder.eval();
        var x = randn(1, 23, input, generator: new Generator(7)) * 2;
        var lengths = tensor(new long[] { 23 });
        using var noGrad = no_grad();
        encoder.ManagedRecurrence = true;
        var managed = encoder.forward(x, lengths).data<float>().ToArray();
        encoder.ManagedRecurrence = false;
        var reference = encoder.forward(x, lengths).data<float>().ToArray();
        for (int i = 0; i < reference.Length; i++) Assert.Equal(reference[i], managed[i], 1e-5);
    }

    [Fact]
    public void EncoderForward_WithGradients_StaysOnTorchPath()
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions { InputSize = 12, HiddenSize = 8, EmbeddingSize = 6 });
        encoder.eval();
        encoder.ManagedRecurrence = true;
        var embedding = encoder.forward(randn(1, 9, 12), tensor(new long[] { 9 }));
        // The managed recurrence has no autograd; taking it here would cut the graph off from the GRU weights.
        embedding.sum().backward();
        var gradient = encoder.named_parameters().Single(p => p.name == "gru.weight_hh_l0").parameter.grad;
        Assert.NotNull(gradient);
        Assert.True(gradient!.abs().sum().item<float>() > 0);
    }
}
