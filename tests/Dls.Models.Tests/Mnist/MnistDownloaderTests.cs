using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dls.Models.Mnist;

namespace Dls.Models.Tests.Mnist;

/// <summary>The downloader against a loopback HTTP server; never touches the network.</summary>
public sealed class MnistDownloaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-dl-").FullName;
    private readonly HttpListener listener = new();
    private readonly string prefix;
    private readonly Dictionary<string, byte[]> served = [];
    private int requests;

    public MnistDownloaderTests()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        prefix = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(prefix);
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref requests);
            _ = Task.Run(() => RespondAsync(context));   // one request at a time would let a slow one hold up the rest
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        try
        {
            string path = context.Request.Url!.AbsolutePath;
            if (path.StartsWith("/slow/", StringComparison.Ordinal))
                await Task.Delay(30_000);                 // a mirror that does not answer within the client's timeout
            if (served.TryGetValue(path, out var body))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The client gave up (timeout) or the listener stopped.
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        Directory.Delete(dir, recursive: true);
    }

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Fact]
    public async Task DownloadAsync_FirstMirrorMissing_FallsBackAndVerifies()
    {
        byte[] images = IdxFixtures.Gzip(IdxFixtures.Images(2, 2, 2));
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/good/a.gz"] = images;
        served["/good/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "missing/"), new Uri(prefix + "good/")],
            Sha256 = new Dictionary<string, string> { ["a.gz"] = Sha(images), ["b.gz"] = Sha(labels) },
        };
        using var http = new HttpClient();
        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);
        Assert.Equal(images, File.ReadAllBytes(paths[0]));
        Assert.Equal(labels, File.ReadAllBytes(paths[1]));

        int before = requests;
        await new MnistDownloader(http, options).DownloadAsync(dir); // verified files are not fetched again
        Assert.Equal(before, requests);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorTimesOut_FallsBackToTheNext()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/slow/b.gz"] = labels;
        served["/good/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "slow/"), new Uri(prefix + "good/")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels) },
        };
        // 2 s: the good mirror answers in milliseconds, but a loaded CI machine running tests in parallel once took more
        // than 300 ms; the slow one never answers within 30 s.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
    }

    [Fact]
    public async Task DownloadAsync_WrongHash_ThrowsWithExpectedAndFound_LeavesNoFile()
    {
        byte[] body = [1, 2, 3];
        served["/m/a.gz"] = body;
        string expected = new('0', 64);
        var options = new MnistDownloadOptions { Mirrors = [new Uri(prefix + "m/")], Sha256 = new Dictionary<string, string> { ["a.gz"] = expected } };
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new MnistDownloader(http, options).DownloadAsync(dir));
        Assert.Contains($"expected SHA-256 {expected}, found {Sha(body)}", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void CanonicalHashes_CoverTheFourStandardFiles()
    {
        Assert.Equal(MnistIdx.StandardFileNames.Select(n => n + ".gz").Order(), MnistDownloadOptions.CanonicalSha256.Keys.Order());
        Assert.All(MnistDownloadOptions.CanonicalSha256.Values, h => Assert.Matches("^[0-9a-f]{64}$", h));
    }
}
