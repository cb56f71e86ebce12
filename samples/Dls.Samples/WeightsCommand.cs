using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Compression.Counting;
using Dls.Models.Checkpoints;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace Dls.Samples;

/// <summary>
/// <c>weights show FILE</c> lists what a PyTorch or safetensors weights file holds; <c>weights import FILE --architecture
/// NAME --out MODEL</c> loads it into a Dls model of a registered architecture and saves a Dls checkpoint (weights and
/// sidecar), which <c>Checkpoint.Load</c> and the commands taking <c>--model</c> for that architecture read (an architecture
/// whose plugin registers an <see cref="IImportedModelWriter"/> is saved by it, with the metadata those commands need);
/// <c>weights export MODEL --out FILE.safetensors</c> goes the other way, for <c>safetensors.torch.load_file</c> in Python.
/// </summary>
internal static class WeightsCommand
{
    /// <summary>
    /// JSON as the user typed it, a key given twice refused: which value would win is not what was said, and JsonObject
    /// would throw a bare "same key" error only when first enumerated, after parsing.
    /// </summary>
    private static readonly JsonDocumentOptions StrictDocument = new() { AllowDuplicateProperties = false };

    public static Command Create(SampleHost host)
    {
        var command = new Command("weights", "Bring weights trained in PyTorch (torch.save .pt/.pth, or .safetensors) into a Dls checkpoint, and Dls checkpoints out as .safetensors.");
        command.Subcommands.Add(ShowCommand(host));
        command.Subcommands.Add(ImportCommand(host));
        command.Subcommands.Add(ExportCommand(host));
        return command;
    }

    private static Command ShowCommand(SampleHost host)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A torch.save file (.pt/.pth) or a .safetensors file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON line: format, tensors (name, shape, dtype), metadata." };
        var command = new Command("show", "List the tensors of a weights file: names, shapes, element types (what --map is written against).") { file, json };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!.FullName;
            WeightsFileFormat format = StateDictFile.DetectFormat(path);
            using StateDictFile weights = StateDictFile.Read(path);
            IReadOnlyList<StateEntry> entries = weights.Describe();
            long values = weights.Tensors.Values.Sum(t => t.numel());
            if (parse.GetValue(json))
            {
                host.WriteJsonResult(new JsonObject
                {
                    ["file"] = path,
                    ["format"] = format.ToString(),
                    ["values"] = values,
                    ["tensors"] = new JsonArray(entries.Select(e => (JsonNode)new JsonObject
                    {
                        ["name"] = e.Name,
                        ["shape"] = new JsonArray(e.Shape.Select(d => (JsonNode)d).ToArray()),
                        ["dtype"] = e.DType,
                    }).ToArray()),
                    ["metadata"] = new JsonObject(weights.Metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                });
                return;
            }

            host.Out.WriteLine($"{path}: {format} file, {entries.Count} tensors, {values.ToString("N0", CultureInfo.InvariantCulture)} values");
            int width = entries.Count == 0 ? 0 : entries.Max(e => e.Name.Length);
            foreach (StateEntry e in entries)
            {
                host.Out.WriteLine($"  {e.Name.PadRight(width)}  [{string.Join("×", e.Shape)}]  {e.DType}");
            }

            foreach ((string key, string value) in weights.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                host.Out.WriteLine($"  {key} = {value}");
            }
        });
        return command;
    }

    private static Command ImportCommand(SampleHost host)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A torch.save file (.pt/.pth) or a .safetensors file." };
        var architecture = new Option<string>("--architecture")
        {
            Description = "The Dls architecture to fill (mnist-mlp, mnist-lowrank-mlp, fc-mask, gru-mask, gru-speaker-encoder, …).",
            Required = true,
        };
        var options = new Option<string?>("--options")
        {
            Description = "The architecture's options as a JSON object (snake_case keys, e.g. {\"hidden_size\": 512}; omitted keys keep their defaults).",
        };
        // Not "@FILE": System.CommandLine reads an @-token as a response file of more arguments.
        var optionsFile = new Option<FileInfo?>("--options-file") { Description = "The same JSON object read from a file." };
        var prefix = new Option<string?>("--prefix") { Description = "Use only names starting with this, without it (e.g. model_state_dict. or module.)." };
        var map = new Option<string[]>("--map")
        {
            Description = "FROM=TO: a name whose leading dotted part is FROM gets TO instead (rnn=gru, 0=layers.0); several allowed, the first that matches applies.",
            AllowMultipleArgumentsPerToken = false,
        };
        map.Validators.Add(result =>
        {
            foreach (string rule in result.Tokens.Select(t => t.Value))
            {
                int at = rule.IndexOf('=', StringComparison.Ordinal);
                if (at <= 0 || at == rule.Length - 1)
                {
                    result.AddError($"--map: expected FROM=TO with both parts non-empty, found '{rule}'.");
                }
            }
        });
        var keep = new Option<string[]>("--keep") { Description = "A module entry the file does not fill, which keeps its initial value (e.g. input_mean); several allowed." };
        var notStrict = new Option<bool>("--not-strict") { Description = "Load what matches and report the rest, instead of refusing a file that does not fill the model exactly." };
        // Settings for the plugin that saves the architecture (IImportedModelWriter); each option's name without dashes is
        // the setting's name. Read as text and checked in the validator below, like --options.
        var features = new Option<string?>("--features")
        {
            HelpName = "JSON",
            Description = "For architectures whose writer takes it (gru-speaker-encoder, where it is required): the input features the model was " +
                "trained on, as a JSON object with snake_case keys, e.g. {\"kind\": \"magnitude\"} for |STFT| at n_fft 1024, hop 512.",
        };
        var threshold = new Option<string?>("--threshold")
        {
            HelpName = "T",
            Description = "For architectures whose writer takes it (gru-speaker-encoder): the decision threshold stored with the model, a cosine " +
                "in [-1, 1]; default 0.5, recorded as not calibrated.",
        };
        var output = new Option<FileInfo>("--out") { Description = "The Dls checkpoint to write (its sidecar goes to OUT.json).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON line with what was loaded, left out and kept." };
        var command = new Command("import", "Load a PyTorch or safetensors weights file into a Dls model and save it as a Dls checkpoint.")
        {
            file, architecture, options, optionsFile, prefix, map, keep, notStrict, features, threshold, output, json,
        };
        // Usage errors (exit 2), found while parsing like the host's unknown tasks and bench areas: an unknown architecture,
        // --options that is not a JSON object or comes with --options-file, --features or --threshold that the architecture's
        // writer does not take or that it finds wrong (a speaker encoder without --features), an --out that would replace
        // the weights or options file read.
        command.Validators.Add(result =>
        {
            if (result.GetValue(architecture) is { } name)
            {
                _ = host.Services;   // the plugins register their areas' architectures with their services
                if (!ModelArchitectures.IsRegistered(name))
                {
                    result.AddError($"--architecture: expected one of [{string.Join(", ", ModelArchitectures.Names)}], found '{name}'.");
                }
                else
                {
                    foreach (string problem in CheckSettings(host, name, result.GetValue(features), result.GetValue(threshold)))
                    {
                        result.AddError(problem);
                    }
                }
            }

            if (result.GetValue(options) is { } text)
            {
                if (result.GetValue(optionsFile) is not null)
                {
                    result.AddError("--options and --options-file: expected one of them, found both.");
                }
                else if (ParseOptions(text, "--options").Problem is { } problem)
                {
                    result.AddError(problem);
                }
            }

            if (result.GetValue(file) is { } input && result.GetValue(output) is { } target
                && Overlap([target.FullName, Checkpoint.SidecarPath(target.FullName)], [input.FullName]) is { } replaced)
            {
                result.AddError($"--out: the checkpoint would replace the weights file read, '{replaced}'. Expected --out to name another file.");
            }

            // The sidecar OUT.json is the usual name of an options file too.
            if (result.GetValue(optionsFile) is { } read && result.GetValue(output) is { } written
                && Overlap([written.FullName, Checkpoint.SidecarPath(written.FullName)], [read.FullName]) is { } replacedOptions)
            {
                result.AddError($"--out: the checkpoint would replace the options file read, '{replacedOptions}'. Expected --out to name another file.");
            }
        });
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!.FullName;
            string outPath = parse.GetValue(output)!.FullName;
            string name = parse.GetValue(architecture)!;
            _ = host.Services;   // the plugins register their areas' architectures with their services

            JsonObject architectureOptions = ReadOptions(parse.GetValue(options), parse.GetValue(optionsFile));
            JsonObject settings = ReadSettings(parse.GetValue(features), parse.GetValue(threshold)).Settings;   // checked while parsing
            IImportedModelWriter? writer = FindWriter(host, name);
            var rules = (parse.GetValue(map) ?? []).Select(r => (From: r[..r.IndexOf('=', StringComparison.Ordinal)], To: r[(r.IndexOf('=', StringComparison.Ordinal) + 1)..])).ToArray();
            WeightsFileFormat format = StateDictFile.DetectFormat(path);
            using StateDictFile weights = StateDictFile.Read(path);
            using torch.nn.Module model = ModelArchitectures.Create(new ModelDescription(name, architectureOptions));
            StateDictImportResult result = StateDictImport.LoadInto(model, weights, new StateDictImportOptions
            {
                Prefix = parse.GetValue(prefix),
                Rename = rules.Length == 0 ? null : n => Rename(n, rules),
                KeepCurrent = parse.GetValue(keep) ?? [],
                Strict = !parse.GetValue(notStrict),
            });
            long parameters = ModelCounter.CountParameters(model).Total;
            var metadata = new JsonObject
            {
                ["imported_from"] = path,
                ["imported_format"] = format.ToString(),
                ["imported_names"] = new JsonObject(result.Loaded.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                ["kept_initial"] = new JsonArray(result.Missing.Select(m => (JsonNode)m).ToArray()),
            };
            // A writer checks its settings against the model before it writes anything; both paths write atomically.
            IReadOnlyList<string> notes = [];
            if (writer is not null)
            {
                notes = writer.Save(outPath, model, metadata, settings);
            }
            else
            {
                Checkpoint.Save(outPath, model, metadata);
            }

            if (parse.GetValue(json))
            {
                host.WriteJsonResult(new JsonObject
                {
                    ["architecture"] = name,
                    ["parameters"] = parameters,
                    ["loaded"] = result.Loaded.Count,
                    ["unused"] = new JsonArray(result.Unused.Select(u => (JsonNode)u).ToArray()),
                    ["kept"] = new JsonArray(result.Missing.Select(m => (JsonNode)m).ToArray()),
                    ["out"] = outPath,
                    ["notes"] = new JsonArray(notes.Select(n => (JsonNode)n).ToArray()),
                });
                return;
            }

            int width = result.Loaded.Count == 0 ? 0 : result.Loaded.Max(p => p.Key.Length);
            foreach ((string to, string from) in result.Loaded)
            {
                host.Out.WriteLine($"  {to.PadRight(width)}  ← {from}");
            }

            if (result.Unused.Count > 0)
            {
                host.Out.WriteLine($"  not used: {string.Join(", ", result.Unused)}");
            }

            if (result.Missing.Count > 0)
            {
                host.Out.WriteLine($"  kept at their initial values: {string.Join(", ", result.Missing)}");
            }

            host.Out.WriteLine($"weights import: {result.Loaded.Count} entries into {name} ({parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters); checkpoint {outPath}");
            foreach (string note in notes)
            {
                host.Out.WriteLine($"  {note}");
            }
        });
        return command;
    }

    private static Command ExportCommand(SampleHost host)
    {
        var model = new Argument<FileInfo>("MODEL") { Description = "A Dls checkpoint (the weights file; its .json sidecar beside it), e.g. results/mnist-baseline.bin." };
        var output = new Option<FileInfo>("--out") { Description = "The .safetensors file to write.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON line: architecture, tensors, values, out." };
        var command = new Command("export", "Write a Dls checkpoint's weights as a .safetensors file under their Dls names (state-dict keys), with the architecture and its options as metadata.")
        {
            model, output, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(model) is { } input && result.GetValue(output) is { } target
                && Overlap([target.FullName], [input.FullName, Checkpoint.SidecarPath(input.FullName)]) is { } replaced)
            {
                result.AddError($"--out: the export would replace the checkpoint read, '{replaced}'. Expected --out to name another file.");
            }
        });
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!.FullName;
            string outPath = parse.GetValue(output)!.FullName;
            _ = host.Services;   // the plugins register their areas' architectures with their services
            (torch.nn.Module loaded, CheckpointInfo info) = Checkpoint.Load(path);
            using (loaded)
            {
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt", ["dls_checkpoint"] = Path.GetFileName(path) };
                if (info.Architecture is { } architecture)
                {
                    metadata["dls_architecture"] = architecture;
                    metadata["dls_options"] = info.Options?.ToJsonString() ?? "{}";
                }

                SafeTensors.Save(loaded, outPath, metadata);
                int tensors = loaded.state_dict().Count;
                long values = loaded.state_dict().Values.Sum(t => t.numel());
                if (parse.GetValue(json))
                {
                    host.WriteJsonResult(new JsonObject
                    {
                        ["architecture"] = info.Architecture,
                        ["tensors"] = tensors,
                        ["values"] = values,
                        ["out"] = outPath,
                    });
                    return;
                }

                host.Out.WriteLine($"weights export: {tensors} tensors ({values.ToString("N0", CultureInfo.InvariantCulture)} values) of {info.Architecture ?? "a model without architecture"} → {outPath}");
            }
        });
        return command;
    }

    /// <summary>The first file read that a file written would replace (full paths compared as the file system's names), or null.</summary>
    private static string? Overlap(IEnumerable<string> written, IReadOnlyCollection<string> read)
        => written.SelectMany(w => read.Where(r => string.Equals(Path.GetFullPath(w), Path.GetFullPath(r), StringComparison.Ordinal))).FirstOrDefault();

    /// <summary>The first rule whose FROM is the whole name or its leading dotted part replaces that part.</summary>
    internal static string Rename(string name, IReadOnlyList<(string From, string To)> rules)
    {
        foreach ((string from, string to) in rules)
        {
            if (name == from)
            {
                return to;
            }

            if (name.StartsWith(from + ".", StringComparison.Ordinal))
            {
                return to + name[from.Length..];
            }
        }

        return name;
    }

    /// <summary>The one writer that claims <paramref name="architecture"/>, or null (a plain checkpoint).</summary>
    private static IImportedModelWriter? FindWriter(SampleHost host, string architecture)
    {
        var claiming = host.Services.GetServices<IImportedModelWriter>().Where(w => w.Architectures.Contains(architecture, StringComparer.Ordinal)).ToList();
        return claiming.Count switch
        {
            0 => null,
            1 => claiming[0],
            _ => throw new InvalidOperationException(
                $"Architecture '{architecture}': expected one import writer, found {claiming.Count} ({string.Join(", ", claiming.Select(w => w.GetType().FullName))})."),
        };
    }

    /// <summary>
    /// The usage errors of <c>--features</c> and <c>--threshold</c> for <paramref name="architecture"/>: text that is not JSON
    /// or not a number, a setting its writer does not take (or any, with no writer), and what the writer finds wrong.
    /// </summary>
    private static List<string> CheckSettings(SampleHost host, string architecture, string? features, string? threshold)
    {
        var (settings, problems) = ReadSettings(features, threshold);
        if (problems.Count > 0)
        {
            return problems;
        }

        IImportedModelWriter? writer = FindWriter(host, architecture);
        foreach (string setting in settings.Select(p => p.Key).Where(k => writer is null || !writer.Settings.Contains(k, StringComparer.Ordinal)))
        {
            string[] takers = host.Services.GetServices<IImportedModelWriter>().Where(w => w.Settings.Contains(setting, StringComparer.Ordinal))
                .SelectMany(w => w.Architectures).Order(StringComparer.Ordinal).ToArray();
            string who = takers.Length == 0 ? "no architecture takes it" : $"it is for {string.Join(", ", takers)}";
            problems.Add($"--{setting}: architecture '{architecture}' takes no --{setting} ({who}), found {Shorten(settings[setting]?.ToJsonString() ?? "null")}.");
        }

        if (problems.Count == 0 && writer is not null)
        {
            problems.AddRange(writer.Check(architecture, settings));
        }

        return problems;
    }

    /// <summary>The settings given, by name (<c>--features</c> as parsed JSON, <c>--threshold</c> as a number), and what is wrong with their text.</summary>
    private static (JsonObject Settings, List<string> Problems) ReadSettings(string? features, string? threshold)
    {
        var settings = new JsonObject();
        var problems = new List<string>();
        if (features is not null)
        {
            try
            {
                settings["features"] = JsonNode.Parse(features, documentOptions: StrictDocument);
            }
            catch (JsonException e)
            {
                problems.Add($"--features: expected JSON, such as {{\"kind\": \"magnitude\"}}, found text that is not JSON ({e.Message}).");
            }
        }

        if (threshold is not null)
        {
            if (double.TryParse(threshold, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value))
            {
                settings["threshold"] = value;
            }
            else
            {
                problems.Add($"--threshold: expected a number, found {Shorten(threshold)}.");
            }
        }

        return (settings, problems);
    }

    /// <summary>The architecture options: <c>--options</c> (checked while parsing) or the content of <c>--options-file</c>.</summary>
    private static JsonObject ReadOptions(string? value, FileInfo? file)
    {
        string where = "--options";
        string? text = value;
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new FileNotFoundException($"--options-file: expected a JSON file at '{file.FullName}', found nothing.", file.FullName);
            }

            text = File.ReadAllText(file.FullName);
            where = $"--options-file '{file.FullName}'";
        }

        var (parsed, problem) = ParseOptions(text, where);
        return parsed ?? throw new ArgumentException(problem);
    }

    /// <summary>A JSON object of options (empty text: none), or what is wrong with the text.</summary>
    private static (JsonObject? Options, string? Problem) ParseOptions(string? text, string where)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ([], null);
        }

        try
        {
            return JsonNode.Parse(text, documentOptions: StrictDocument) is JsonObject parsed
                ? (parsed, null)
                : (null, $"{where}: expected a JSON object such as {{\"hidden_size\": 512}}, found {Shorten(text)}.");
        }
        catch (JsonException e)
        {
            return (null, $"{where}: expected a JSON object, found text that is not JSON ({e.Message}).");
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? $"'{text}'" : $"'{text[..40]}…'";
}
