using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Speaker.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Encoders;

/// <summary>
/// An encoder trained in PyTorch embeds as it did there: <c>TestData/parity/speaker_encoder.pth</c> was written by
/// <c>make_speaker_parity.py</c> (PyTorch 1.13: bidirectional GRU, mean over valid frames of packed sequences, linear
/// layer, L2 normalization; its own names <c>rnn.*</c> and <c>linear.*</c>) beside the embeddings PyTorch computed for a
/// padded batch of a 7-frame and a 4-frame utterance. Tolerance 1e-5 absolute, as in <see cref="GruRecurrenceTests"/>:
/// float32 on both sides, differing in summation order and exp/tanh evaluation over at most 7 steps; a wrong gate order,
/// direction or padding shows at 1e-2 or more.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class PyTorchParityTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "parity");

    [Fact]
    public void GruSpeakerEncoder_StateDictFromPyTorch_GivesPyTorchsEmbeddings()
    {
        JsonObject golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "speaker_encoder.json")))!.AsObject();
        JsonObject shape = golden["shape"]!.AsObject();
        int bins = (int)shape["bins"]!;
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions
        {
            InputSize = bins, HiddenSize = (int)shape["hidden"]!, EmbeddingSize = (int)shape["embedding"]!,
        });
        using (StateDictFile file = PyTorchFile.Read(Path.Combine(Folder, "speaker_encoder.pth")))
        {
            // The PyTorch model had no input normalization: Dls's stays at identity (mean 0, scale 1).
            StateDictImportResult result = StateDictImport.LoadInto(encoder, file, new StateDictImportOptions
            {
                Rename = name => name.Replace("rnn.", "gru.", StringComparison.Ordinal).Replace("linear.", "fc.", StringComparison.Ordinal),
                KeepCurrent = ["input_mean", "input_scale"],
            });
            Assert.Equal(10, result.Loaded.Count);   // 4 tensors per GRU direction, the linear layer's weight and bias
            Assert.Equal(["input_mean", "input_scale"], result.Missing);
        }

        long[] lengths = golden["lengths"]!.AsArray().Select(v => (long)v!).ToArray();
        float[] features = golden["features"]!.AsArray().SelectMany(u => u!.AsArray().SelectMany(f => f!.AsArray().Select(v => (float)v!))).ToArray();
        float[][] expected = golden["embeddings"]!.AsArray().Select(r => r!.AsArray().Select(v => (float)v!).ToArray()).ToArray();
        encoder.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = tensor(features).reshape(lengths.Length, -1, bins);

        // The padded batch (packed sequences in torch's GRU), then each utterance alone (the managed recurrence where
        // the CPU has 256-bit vectors; torch's GRU otherwise): both must give PyTorch's embedding.
        float[] together = encoder.forward(batch, tensor(lengths)).data<float>().ToArray();
        for (int u = 0; u < lengths.Length; u++)
        {
            float[] alone = encoder.forward(batch.narrow(0, u, 1).narrow(1, 0, lengths[u]), tensor(new[] { lengths[u] })).data<float>().ToArray();
            for (int i = 0; i < expected[u].Length; i++)
            {
                Assert.Equal(expected[u][i], together[u * expected[u].Length + i], 1e-5);
                Assert.Equal(expected[u][i], alone[i], 1e-5);
            }
        }
    }
}
