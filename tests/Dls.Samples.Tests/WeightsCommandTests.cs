using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
using Dls.Samples.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Tests;

/// <summary>
/// <c>weights show</c> and <c>weights import</c> on the PyTorch parity file of the Dls.Models tests (an assignment-style
/// MLP saved by PyTorch 1.13 in a checkpoint dictionary; see its <c>make_mnist_parity.py</c>).
/// </summary>
[Collection("TorchGlobalState")]
public sealed class WeightsCommandTests
{
    private const string MnistOptions = """{"input_size": 12, "hidden_size": 8, "hidden_layers": 2, "classes": 3}""";
    private static readonly string Parity = Path.Combine(RepoPaths.Root, "tests", "Dls.Models.Tests", "TestData", "parity");
    private static readonly string PyTorchMlp = Path.Combine(Parity, "mnist_mlp.pth");

    [Fact]
    public async Task Show_PyTorchCheckpoint_ListsTensorsShapesTypesAndTheOtherEntries()
    {
        var (code, stdout, stderr) = await HostRunner.RunAsync("weights", "show", PyTorchMlp);

        Assert.True(code == 0, stderr);
        Assert.Contains($"{PyTorchMlp}: PyTorch file, ", stdout);
        Assert.Matches(@"model_state_dict\.0\.weight +\[8×12\]  Float32", stdout);
        Assert.Matches(@"model_state_dict\.6\.bias +\[3\]  Float32", stdout);
        Assert.Contains("epoch = 5", stdout);
    }

    [Fact]
    public async Task Show_Json_LastLineListsEveryTensor()
    {
        var (code, stdout, stderr) = await HostRunner.RunAsync("weights", "show", PyTorchMlp, "--json");

        Assert.True(code == 0, stderr);
        JsonObject result = HostRunner.LastJsonLine(stdout);
        Assert.Equal("PyTorch", (string)result["format"]!);
        JsonObject bias = result["tensors"]!.AsArray().Select(t => t!.AsObject()).Single(t => (string)t["name"]! == "model_state_dict.6.bias");
        Assert.Equal([3L], bias["shape"]!.AsArray().Select(d => (long)d!));
        // 12·8 + 8 + 8·8 + 8 + 8·3 + 3 = 203 model values, plus Adam's two moments of each (406) and its step counts.
        Assert.True((long)result["values"]! >= 203 * 3, result.ToJsonString());
    }

    [Fact]
    public async Task Import_SequentialCheckpoint_WritesADlsCheckpointThatGivesPyTorchsLogits()
    {
        using var dir = ScratchFolder.Create("dls-weights-import-");
        string output = dir.PathFor("mlp.ckpt");

        var (code, stdout, stderr) = await HostRunner.RunAsync(
            "weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options", MnistOptions,
            "--prefix", "model_state_dict.", "--map", "0=layers.0", "--map", "3=layers.1", "--map", "6=layers.2", "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Contains("layers.2.weight  ← model_state_dict.6.weight", stdout);
        Assert.Contains("not used: optimizer_state_dict.", stdout);
        Assert.Contains($"weights import: 6 entries into mnist-mlp (203 parameters); checkpoint {output}", stdout);
        CheckpointInfo info = Checkpoint.ReadInfo(output);
        Assert.Equal(PyTorchMlp, (string)info.Metadata["imported_from"]!);
        Assert.Equal("model_state_dict.3.bias", (string)info.Metadata["imported_names"]!["layers.1.bias"]!);

        // The checkpoint is a plain Dls one: loaded without the PyTorch file, it computes PyTorch's logits (to 1e-5, the
        // tolerance of the library's parity test: float32 sums of 8-12 products in another order).
        JsonObject golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Parity, "mnist_mlp.json")))!.AsObject();
        float[] input = golden["input"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => (float)v!)).ToArray();
        float[] expected = golden["logits"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => (float)v!)).ToArray();
        using MnistMlp model = Checkpoint.Load<MnistMlp>(output);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        float[] logits = model.forward(tensor(input).reshape(4, 12)).data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], logits[i], 1e-5);
        }
    }

    [Fact]
    public async Task Import_SafeTensorsFile_IsReadByItsContent()
    {
        using var dir = ScratchFolder.Create("dls-weights-st-");
        string weights = dir.PathFor("mlp.safetensors"), output = dir.PathFor("mlp.ckpt");
        var options = new MnistMlpOptions { InputSize = 12, HiddenSize = 8, HiddenLayers = 2, Classes = 3 };
        float[] first;
        using (var source = new MnistMlp(options))
        {
            SafeTensors.Save(source, weights);
            first = source.state_dict()["layers.0.weight"].data<float>().ToArray();
        }

        var (code, stdout, stderr) = await HostRunner.RunAsync("weights", "import", weights, "--architecture", "mnist-mlp", "--options", MnistOptions, "--out", output, "--json");

        Assert.True(code == 0, stderr);
        JsonObject result = HostRunner.LastJsonLine(stdout);
        Assert.Equal(6, (int)result["loaded"]!);
        Assert.Empty(result["unused"]!.AsArray());
        Assert.Equal("SafeTensors", (string)Checkpoint.ReadInfo(output).Metadata["imported_format"]!);
        using MnistMlp model = Checkpoint.Load<MnistMlp>(output);
        Assert.Equal(first, model.state_dict()["layers.0.weight"].data<float>().ToArray());
    }

    [Fact]
    public async Task Import_NamesThatDoNotMatch_FailsWithTheMismatchAndWritesNothing()
    {
        using var dir = ScratchFolder.Create("dls-weights-mismatch-");
        string output = dir.PathFor("mlp.ckpt");

        var (code, stdout, stderr) = await HostRunner.RunAsync(
            "weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options", MnistOptions, "--prefix", "model_state_dict.", "--out", output);

        Assert.Equal(1, code);
        Assert.Contains("does not match the module: the MnistMlp entries the file does not fill: ['layers.0.bias'", stderr);
        Assert.Contains("tensors of the file that name no module entry: ['model_state_dict.0.bias (as 0.bias)'", stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Import_UnknownArchitecture_IsAUsageErrorListingTheRegisteredOnes()
    {
        using var dir = ScratchFolder.Create("dls-weights-arch-");

        var (code, _, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchMlp, "--architecture", "resnet50", "--out", dir.PathFor("x.ckpt"));

        Assert.Equal(2, code);   // like an unknown task or bench area
        Assert.Contains("error: --architecture: expected one of [", stderr);
        Assert.Contains("mnist-mlp", stderr);
        Assert.Contains("gru-speaker-encoder", stderr);
        Assert.Contains("found 'resnet50'.", stderr);
    }

    [Theory]
    [InlineData("rnn")]
    [InlineData("=gru")]
    [InlineData("rnn=")]
    public async Task Import_MapWithoutBothParts_IsAUsageError(string rule)
    {
        var (code, _, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--map", rule, "--out", "x.ckpt");

        Assert.Equal(2, code);
        Assert.Contains($"--map: expected FROM=TO with both parts non-empty, found '{rule}'.", stderr);
    }

    [Theory]
    [InlineData("[1, 2]", "--options: expected a JSON object such as {\"hidden_size\": 512}, found '[1, 2]'.")]
    [InlineData("{hidden", "--options: expected a JSON object, found text that is not JSON")]
    public async Task Import_OptionsNotAJsonObject_IsAUsageErrorNamingTheOption(string options, string message)
    {
        using var dir = ScratchFolder.Create("dls-weights-options-");

        var (code, _, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options", options, "--out", dir.PathFor("x.ckpt"));

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task Import_OptionsFile_IsReadAndAMissingFileOrBothOptionsAreRefused()
    {
        using var dir = ScratchFolder.Create("dls-weights-optfile-");
        string optionsFile = dir.PathFor("options.json"), output = dir.PathFor("mlp.ckpt");
        File.WriteAllText(optionsFile, MnistOptions);

        var (code, _, stderr) = await HostRunner.RunAsync(
            "weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options-file", optionsFile, "--prefix", "model_state_dict.",
            "--map", "0=layers.0", "--map", "3=layers.1", "--map", "6=layers.2", "--out", output);
        Assert.True(code == 0, stderr);
        using (MnistMlp loaded = Checkpoint.Load<MnistMlp>(output))
        {
            Assert.Equal(8, loaded.Options.HiddenSize);
        }

        string missing = dir.PathFor("none.json");
        (code, _, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options-file", missing, "--out", output);
        Assert.Equal(1, code);
        Assert.Contains($"--options-file: expected a JSON file at '{missing}', found nothing.", stderr);

        (code, _, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options", "{}", "--options-file", optionsFile, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--options and --options-file: expected one of them, found both.", stderr);
    }

    [Fact]
    public async Task Import_OutThatWouldReplaceTheFileRead_IsAUsageErrorAndTheFileStays()
    {
        using var dir = ScratchFolder.Create("dls-weights-same-");
        string input = dir.PathFor("in.pth");
        File.Copy(PyTorchMlp, input);
        byte[] before = File.ReadAllBytes(input);
        string outPath = input;

        var (code, stdout, stderr) = await HostRunner.RunAsync(
            "weights", "import", input, "--architecture", "mnist-mlp", "--options", MnistOptions, "--prefix", "model_state_dict.",
            "--map", "0=layers.0", "--map", "3=layers.1", "--map", "6=layers.2", "--out", outPath);

        Assert.Equal(2, code);
        Assert.Contains($"--out: the checkpoint would replace the weights file read, '{input}'", stderr);
        Assert.Equal("", stdout);
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    [Fact]
    public async Task Import_FailingOverAnExistingCheckpoint_LeavesItWhole()
    {
        using var dir = ScratchFolder.Create("dls-weights-keep-");
        string output = dir.PathFor("mlp.ckpt");
        string[] good = ["weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options", MnistOptions, "--prefix", "model_state_dict.",
            "--map", "0=layers.0", "--map", "3=layers.1", "--map", "6=layers.2", "--out", output];
        var (code, _, stderr) = await HostRunner.RunAsync(good);
        Assert.True(code == 0, stderr);
        byte[] weights = File.ReadAllBytes(output), sidecar = File.ReadAllBytes(Checkpoint.SidecarPath(output));

        (code, _, _) = await HostRunner.RunAsync(good[..^8].Concat(["--out", output]).ToArray());   // no --map: names do not match

        Assert.Equal(1, code);
        Assert.Equal(weights, File.ReadAllBytes(output));
        Assert.Equal(sidecar, File.ReadAllBytes(Checkpoint.SidecarPath(output)));
    }

    [Fact]
    public async Task Show_NotAWeightsFile_SaysWhatWasExpectedAndFound()
    {
        using var dir = ScratchFolder.Create("dls-weights-text-");
        string text = dir.PathFor("notes.pth");
        File.WriteAllText(text, "hello, world");

        var (code, _, stderr) = await HostRunner.RunAsync("weights", "show", text);

        Assert.Equal(1, code);
        Assert.Contains("expected a PyTorch file (a zip archive, starting 504B0304) or a safetensors file", stderr);
        Assert.Contains("found first bytes 68656C6C6F2C20776F", stderr);
    }

    [Fact]
    public async Task Export_DlsCheckpoint_WritesItsStateDictAsSafeTensorsThatImportsBackToTheSameWeights()
    {
        using var dir = ScratchFolder.Create("dls-weights-export-");
        string checkpoint = dir.PathFor("mlp.ckpt"), exported = dir.PathFor("mlp.safetensors"), back = dir.PathFor("back.ckpt");
        var options = new MnistMlpOptions { InputSize = 12, HiddenSize = 8, HiddenLayers = 2, Classes = 3 };
        Dictionary<string, float[]> original;
        using (var model = new MnistMlp(options))
        {
            Checkpoint.Save(checkpoint, model);
            original = model.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
        }

        var (code, stdout, stderr) = await HostRunner.RunAsync("weights", "export", checkpoint, "--out", exported);

        Assert.True(code == 0, stderr);
        Assert.Contains($"weights export: 6 tensors (203 values) of mnist-mlp → {exported}", stdout);
        string optionsJson;
        using (StateDictFile file = SafeTensors.Read(exported))
        {
            Assert.Equal(original.Keys.Order(), file.Tensors.Keys.Order());
            Assert.All(original, p => Assert.Equal(p.Value, file.Tensors[p.Key].data<float>().ToArray()));
            Assert.Equal("mnist-mlp", file.Metadata["dls_architecture"]);
            optionsJson = file.Metadata["dls_options"];
        }

        // The metadata is enough to import the file again as the same model.
        (code, _, stderr) = await HostRunner.RunAsync("weights", "import", exported, "--architecture", "mnist-mlp", "--options", optionsJson, "--out", back);
        Assert.True(code == 0, stderr);
        using MnistMlp reloaded = Checkpoint.Load<MnistMlp>(back);
        Assert.Equal(options, reloaded.Options);
        Assert.All(original, p => Assert.Equal(p.Value, reloaded.state_dict()[p.Key].data<float>().ToArray()));
    }

    [Fact]
    public async Task ExportThenImport_MaskNetwork_GivesADenoiserCheckpointThatDenoisesToTheSameBytes()
    {
        // A mask network must come back with the denoiser's metadata (rate, STFT settings), or `denoise --model` refuses it.
        using var dir = ScratchFolder.Create("dls-weights-denoiser-");
        string original = dir.PathFor("fc.ckpt"), exported = dir.PathFor("fc.safetensors"), imported = dir.PathFor("fc-imported.ckpt");
        using (var network = new Dls.Models.Denoising.FcMaskNetwork(new Dls.Models.Denoising.FcMaskNetworkOptions(HiddenSize: 16)))
        {
            Dls.Models.Denoising.DenoisingModels.Save(original, network);
        }

        var (code, _, stderr) = await HostRunner.RunAsync("weights", "export", original, "--out", exported);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = await HostRunner.RunAsync("weights", "import", exported, "--architecture", "fc-mask", "--options", """{"hidden_size": 16}""", "--out", imported);
        Assert.True(code == 0, stderr);

        string noisy = Path.Combine(RepoPaths.Root, "samples", "data", "denoise", "test", "tex0000.wav");
        foreach (var (model, folder) in new[] { (original, "a"), (imported, "b") })
        {
            (code, _, stderr) = await HostRunner.RunAsync("denoise", noisy, "--model", model, "--out", dir.PathFor(folder));
            Assert.True(code == 0, stderr);
        }

        Assert.Equal(File.ReadAllBytes(dir.PathFor("a/tex0000.wav")), File.ReadAllBytes(dir.PathFor("b/tex0000.wav")));
        Assert.Equal(16000, (int)Checkpoint.ReadInfo(imported).Metadata["sample_rate"]!);
    }

    [Fact]
    public async Task Import_MaskNetworkOverOtherBinsThanTheDenoisers_FailsAndWritesNothing()
    {
        // A network of 257 bins (n_fft 512) loads, but no denoiser can run it (DenoisingModels.Load refuses it): the
        // writer must not save it as a denoiser checkpoint that "denoise --model takes".
        using var dir = ScratchFolder.Create("dls-weights-bins-");
        string weights = dir.PathFor("fc257.safetensors"), output = dir.PathFor("fc257.ckpt");
        using (var network = new Dls.Models.Denoising.FcMaskNetwork(new Dls.Models.Denoising.FcMaskNetworkOptions(Bins: 257, HiddenSize: 4)))
        {
            SafeTensors.Save(network, weights);
        }

        var (code, stdout, stderr) = await HostRunner.RunAsync("weights", "import", weights, "--architecture", "fc-mask", "--options", """{"bins": 257, "hidden_size": 4}""", "--out", output);

        Assert.Equal(1, code);
        Assert.Contains("error: A denoiser's mask network reads 513 bins (n_fft 1024, hop 512); found a fc-mask over 257 bins", stderr);
        Assert.Contains("nothing was written", stderr);
        Assert.Equal("", stdout);
        Assert.Equal(["fc257.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("--options", """{"input_size": 12, "hidden_size": 8, "hidden_size": 9}""", "hidden_size")]
    [InlineData("--features", """{"kind": "log_mel", "mel_bins": 10, "kind": "magnitude"}""", "kind")]
    [InlineData("--features", """{"kind": "log_mel", "mel_bins": 10, "Kind": "log_magnitude", "n_fft": 18, "hop_length": 9}""", "kind")]
    public async Task Import_JsonWithADuplicateKey_IsAUsageErrorNamingTheKey(string option, string json, string key)
    {
        // Which of two values would win is not what the user said: refused while parsing, like any other bad JSON.
        using var dir = ScratchFolder.Create("dls-weights-duplicate-");
        string output = dir.PathFor("x.ckpt");
        string architecture = option == "--features" ? "gru-speaker-encoder" : "mnist-mlp";

        var (code, stdout, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchMlp, "--architecture", architecture, option, json, "--out", output);

        Assert.Equal(2, code);
        Assert.Contains($"error: {option}: expected", stderr);
        Assert.Contains($"'{key}'", stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Import_OutWhoseSidecarWouldReplaceTheOptionsFile_IsAUsageErrorAndTheFileStays()
    {
        // --out mlp writes mlp.json beside it: the options file read, which would be lost without a word.
        using var dir = ScratchFolder.Create("dls-weights-optfile-same-");
        string optionsFile = dir.PathFor("mlp.json");
        File.WriteAllText(optionsFile, MnistOptions);

        var (code, stdout, stderr) = await HostRunner.RunAsync(
            "weights", "import", PyTorchMlp, "--architecture", "mnist-mlp", "--options-file", optionsFile, "--prefix", "model_state_dict.",
            "--map", "0=layers.0", "--map", "3=layers.1", "--map", "6=layers.2", "--out", dir.PathFor("mlp"));

        Assert.Equal(2, code);
        Assert.Contains($"--out: the checkpoint would replace the options file read, '{optionsFile}'. Expected --out to name another file.", stderr);
        Assert.Equal("", stdout);
        Assert.Equal(MnistOptions, File.ReadAllText(optionsFile));
        Assert.Equal(["mlp.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Export_OutOverTheCheckpoint_IsAUsageErrorAndAMissingCheckpointIsNamed()
    {
        using var dir = ScratchFolder.Create("dls-weights-export-bad-");
        string checkpoint = dir.PathFor("mlp.ckpt");

        var (code, _, stderr) = await HostRunner.RunAsync("weights", "export", checkpoint, "--out", checkpoint);
        Assert.Equal(2, code);
        Assert.Contains($"--out: the export would replace the checkpoint read, '{checkpoint}'.", stderr);

        (code, _, stderr) = await HostRunner.RunAsync("weights", "export", checkpoint, "--out", checkpoint + ".json");
        Assert.Equal(2, code);
        Assert.Contains($"--out: the export would replace the checkpoint read, '{checkpoint}.json'.", stderr);

        (code, _, stderr) = await HostRunner.RunAsync("weights", "export", checkpoint, "--out", dir.PathFor("x.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains(checkpoint, stderr);
        Assert.False(File.Exists(dir.PathFor("x.safetensors")));
    }

    [Theory]
    [InlineData("rnn.weight_ih_l0", "gru.weight_ih_l0")]
    [InlineData("rnnx.weight", "rnnx.weight")]      // a leading dotted part, not a text prefix
    [InlineData("0", "layers.0")]
    [InlineData("0.bias", "layers.0.bias")]
    [InlineData("linear.bias", "fc.bias")]         // the first matching rule applies
    public void Rename_LeadingDottedPart_IsReplacedByTheFirstMatchingRule(string name, string expected)
        => Assert.Equal(expected, WeightsCommand.Rename(name, [("rnn", "gru"), ("0", "layers.0"), ("linear", "fc"), ("linear", "out")]));
}
