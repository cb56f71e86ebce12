using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Checkpoints;

/// <summary>
/// Weights trained in PyTorch give the same outputs in Dls: <c>TestData/parity/mnist_mlp.pth</c> was written by
/// <c>make_mnist_parity.py</c> (PyTorch 1.13, an assignment-style <c>nn.Sequential</c> MLP saved in a checkpoint
/// dictionary with its optimizer state) beside the logits PyTorch computed. Tolerance 1e-5 absolute: both sides compute
/// in float32 and differ only in summation order, over sums of 8–12 products of values below 1; a wrong layer order,
/// a transposed weight or a missed bias shows at 1e-2 or more.
/// </summary>
public sealed class PyTorchParityTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "parity");

    [Fact]
    public void MnistMlp_SequentialCheckpointFromPyTorch_GivesPyTorchsLogits()
    {
        JsonObject golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "mnist_mlp.json")))!.AsObject();
        JsonObject shape = golden["shape"]!.AsObject();
        using var model = new MnistMlp(new MnistMlpOptions
        {
            InputSize = (int)shape["input"]!, HiddenSize = (int)shape["hidden"]!, HiddenLayers = (int)shape["hidden_layers"]!, Classes = (int)shape["classes"]!,
        });
        using StateDictFile file = PyTorchFile.Read(Path.Combine(Folder, "mnist_mlp.pth"));

        // nn.Sequential(Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear): the Linear layers are items 0, 3 and 6.
        StateDictImportResult result = StateDictImport.LoadInto(model, file, new StateDictImportOptions
        {
            Prefix = "model_state_dict.",
            Rename = name => name.Split('.') is [var item, var kind] ? $"layers.{int.Parse(item) / 3}.{kind}" : null,
        });

        Assert.Equal(6, result.Loaded.Count);
        Assert.Contains(result.Unused, name => name.StartsWith("optimizer_state_dict.state.", StringComparison.Ordinal));
        Assert.Equal("5", file.Metadata["epoch"]);
        float[][] input = golden["input"]!.AsArray().Select(r => r!.AsArray().Select(v => (float)v!).ToArray()).ToArray();
        float[][] expected = golden["logits"]!.AsArray().Select(r => r!.AsArray().Select(v => (float)v!).ToArray()).ToArray();
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        float[] logits = model.forward(tensor(input.SelectMany(r => r).ToArray()).reshape(input.Length, -1)).data<float>().ToArray();
        for (int row = 0; row < expected.Length; row++)
        {
            for (int c = 0; c < expected[row].Length; c++)
            {
                Assert.Equal(expected[row][c], logits[row * expected[row].Length + c], 1e-5);
            }
        }
    }
}
