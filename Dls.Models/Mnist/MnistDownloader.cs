using System.Security.Cryptography;
using Dls.Audio.IO;

namespace Dls.Models.Mnist;

/// <summary>Where and how <see cref="MnistDownloader"/> fetches the full MNIST files.</summary>
public sealed record MnistDownloadOptions
{
    /// <summary>The canonical mirrors, tried in order (the original site often refuses automated downloads).</summary>
    public static IReadOnlyList<Uri> CanonicalMirrors { get; } =
    [
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("https://storage.googleapis.com/cvdf-datasets/mnist/"),
        new("http://yann.lecun.com/exdb/mnist/"),
    ];

    /// <summary>
    /// SHA-256 of the four canonical gzipped files (60,000 training and 10,000 test digits), as published alongside
    /// the mirrors and used by torchvision and TensorFlow.
    /// </summary>
    public static IReadOnlyDictionary<string, string> CanonicalSha256 { get; } = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte.gz"] = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ["train-labels-idx1-ubyte.gz"] = "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ["t10k-images-idx3-ubyte.gz"] = "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ["t10k-labels-idx1-ubyte.gz"] = "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    };

    /// <summary>Base URIs (ending in '/') to try in order. Default <see cref="CanonicalMirrors"/>.</summary>
    public IReadOnlyList<Uri> Mirrors { get; init; } = CanonicalMirrors;

    /// <summary>File name → expected SHA-256 (lower-case hex). Default <see cref="CanonicalSha256"/>.</summary>
    public IReadOnlyDictionary<string, string> Sha256 { get; init; } = CanonicalSha256;

    /// <summary>Largest accepted file, to stop a misbehaving server early. Default 64 MiB.</summary>
    public long MaxBytes { get; init; } = 64L << 20;
}

/// <summary>
/// Opt-in download of the full MNIST data set for machines with internet. Each file is verified against its SHA-256
/// before it is moved (atomically) into place; files already present with the right hash are not fetched again.
/// </summary>
public sealed class MnistDownloader
{
    private readonly HttpClient http;
    private readonly MnistDownloadOptions options;

    /// <summary>Creates a downloader.</summary>
    /// <param name="http">The client to use (owned by the caller).</param>
    /// <param name="options">Mirrors and hashes; null uses the canonical ones.</param>
    public MnistDownloader(HttpClient http, MnistDownloadOptions? options = null)
    {
        this.http = http ?? throw new ArgumentNullException(nameof(http));
        this.options = options ?? new MnistDownloadOptions();
        if (this.options.Mirrors.Count == 0) throw new ArgumentException("At least one mirror is needed.", nameof(options));
    }

    /// <summary>Downloads every file of <see cref="MnistDownloadOptions.Sha256"/> into <paramref name="directory"/>.</summary>
    /// <param name="directory">The target folder (created if needed).</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The paths of the verified files.</returns>
    /// <exception cref="InvalidDataException">No mirror served a file with the expected hash (every attempt is listed).</exception>
    public async Task<IReadOnlyList<string>> DownloadAsync(string directory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var (name, sha) in options.Sha256)
        {
            string target = Path.Combine(directory, name);
            if (File.Exists(target) && HashOf(await File.ReadAllBytesAsync(target, cancellationToken)) == sha)
            {
                paths.Add(target);
                continue;
            }
            var failures = new List<string>();
            bool done = false;
            foreach (var mirror in options.Mirrors)
            {
                var uri = new Uri(mirror, name);
                try
                {
                    byte[] bytes = await FetchAsync(uri, cancellationToken);
                    string found = HashOf(bytes);
                    if (found != sha)
                    {
                        failures.Add($"{uri}: expected SHA-256 {sha}, found {found}");
                        continue;
                    }
                    AtomicFile.WriteAllBytes(target, bytes);
                    paths.Add(target);
                    done = true;
                    break;
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"{uri}: {e.Message}");
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // HttpClient's own timeout (not the caller's cancellation): try the next mirror.
                    failures.Add($"{uri}: timed out ({e.Message})");
                }
                catch (IOException e)
                {
                    // The connection broke while the body was read.
                    failures.Add($"{uri}: {e.Message}");
                }
                catch (InvalidDataException e)
                {
                    failures.Add($"{uri}: {e.Message}");
                }
            }
            if (!done)
                throw new InvalidDataException($"Could not download {name}: " + string.Join("; ", failures));
        }
        return paths;
    }

    private async Task<byte[]> FetchAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength is > 0 and var length && length > options.MaxBytes)
            throw new InvalidDataException($"expected at most {options.MaxBytes} bytes, server announces {length}");
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > options.MaxBytes)
                throw new InvalidDataException($"expected at most {options.MaxBytes} bytes, received more");
        }
        return buffer.ToArray();
    }

    private static string HashOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
