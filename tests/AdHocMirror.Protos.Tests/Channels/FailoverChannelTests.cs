using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdHocMirror.Hosting;
using AdHocMirror.Protos.Tests.Interop;
using AdHocMirror.Testing;

namespace AdHocMirror.Protos.Tests.Channels;

/// <summary>A channel over several servers: the first that accepts a connection answers, and TLS still checks the name.</summary>
public sealed class FailoverChannelTests
{
    private static CallOptions Quick => Calls.WithTimeout(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_dead_first_address_is_passed_over_and_a_server_that_goes_away_hands_calls_to_the_next()
    {
        await using var first = await InteropServer.StartAsync();
        await using var second = await InteropServer.StartAsync();
        var dead = FreePort.Next();
        using var channel = GrpcChannels.Create(ServiceAddresses.Parse($"http://127.0.0.1:{dead}", "http://" + first.Address, "http://" + second.Address));
        var client = new Interop.Interop.InteropClient(channel);

        Assert.Equal("one", (await client.EchoAsync(new EchoRequest { Text = "one" }, Quick)).Text);
        Assert.Equal(1, first.Service.Calls);
        Assert.Equal(0, second.Service.Calls);

        await first.Server.StopAsync();
        // The first call after may meet the dropped connection (UNAVAILABLE): the caller's retry goes to the next server.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await client.EchoAsync(new EchoRequest { Text = "two" }, Quick)).Text == "two";
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, "a call answered by the second server", TimeSpan.FromSeconds(20));
        Assert.True(second.Service.Calls >= 1);
    }

    [Fact]
    public async Task A_server_that_lets_a_deadline_pass_unanswered_is_set_aside_and_the_next_call_goes_to_the_next()
    {
        await using var first = await InteropServer.StartAsync();
        await using var second = await InteropServer.StartAsync();
        using var channel = GrpcChannels.Create(ServiceAddresses.Parse("http://" + first.Address, "http://" + second.Address));
        var client = new Interop.Interop.InteropClient(channel);
        Assert.Equal("first", (await client.EchoAsync(new EchoRequest { Text = "first" }, Quick)).Text);

        // Connected, but the answer never comes in time (a hung coordinator).
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { SleepMs = 10_000 }, Calls.WithTimeout(TimeSpan.FromSeconds(1))));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);

        Assert.Equal("next", (await client.EchoAsync(new EchoRequest { Text = "next" }, Quick)).Text);
        Assert.Equal(2, first.Service.Calls);
        Assert.Equal(1, second.Service.Calls);
    }

    [Fact]
    public async Task Over_TLS_the_certificate_is_checked_against_the_configured_name_not_the_address()
    {
        using var dir = new TempDir("ahm-tls");
        var (caFile, certFile, keyFile) = TestCertificates.ForLocalhost(dir);
        await using var server = await InteropServer.StartAsync(endpoint: new GrpcEndpoint(new IPEndPoint(IPAddress.Loopback, 0), certFile, keyFile));
        var settings = new ChannelSettings { TrustedCertificatesFile = caFile };
        var dead = FreePort.Next();

        // By name (resolved to 127.0.0.1, perhaps ::1 as well), behind a dead address: the name matches the certificate.
        using (var byName = GrpcChannels.Create(ServiceAddresses.Parse($"https://localhost:{dead}", $"https://localhost:{server.Server.Port}"), settings))
        {
            Assert.Equal("tls", (await new Interop.Interop.InteropClient(byName).EchoAsync(new EchoRequest { Text = "tls" }, Quick)).Text);
        }

        // By address: the same server and certificate, but 127.0.0.1 is not a name the certificate holds.
        using var byAddress = GrpcChannels.Create(ServiceAddresses.Parse($"https://127.0.0.1:{server.Server.Port}"), settings);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.Interop.InteropClient(byAddress).EchoAsync(new EchoRequest { Text = "tls" }, Quick));
        // The TLS handshake fails (grpc-dotnet reports it as INTERNAL through a balanced channel): nothing was sent.
        Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Contains("SSL", error.Status.Detail + error.Status.DebugException, StringComparison.Ordinal);
        Assert.Equal(0, server.Service.Calls - 1);
    }

    /// <summary>A private CA and a server certificate it signed for the name <c>localhost</c> only (no address in it).</summary>
    private static class TestCertificates
    {
        public static (string Ca, string Certificate, string Key) ForLocalhost(TempDir dir)
        {
            var now = DateTimeOffset.UtcNow;
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=AHM test CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            using var certificate = request.Create(ca, now.AddHours(-1), now.AddHours(12), RandomNumberGenerator.GetBytes(8));

            var (caFile, certificateFile, keyFile) = (dir.Combine("ca.pem"), dir.Combine("server.pem"), dir.Combine("server.key"));
            File.WriteAllText(caFile, ca.ExportCertificatePem());
            File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
            File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
            return (caFile, certificateFile, keyFile);
        }
    }
}
