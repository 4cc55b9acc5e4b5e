import { redisRefusal } from './redis-access-check';

const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('redisRefusal: which start-up failures stop the app', () => {
  it('a refused login, a refused certificate or a failed handshake: what to check', () => {
    expect(redisRefusal(error('WRONGPASS invalid username-password pair or user is disabled.'))).toMatch(
      /^refused the login \(WRONGPASS .*\): check the user and password/,
    );
    expect(redisRefusal(error('NOAUTH Authentication required.'))).toMatch(/^refused the login/);
    expect(
      redisRefusal(error('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN')),
    ).toMatch(/certificate this app does not accept .*REDIS_TLS_CA_FILE/);
    expect(redisRefusal(error('certificate has expired', 'CERT_HAS_EXPIRED'))).toMatch(/does not accept/);
    // Through Sentinel the connector wraps the last error in its own message.
    expect(
      redisRefusal(
        error(
          'All sentinels are unreachable and retry is disabled. Last error: unable to verify the first certificate',
        ),
      ),
    ).toMatch(/does not accept/);
    expect(
      redisRefusal(error('ssl3_get_record:wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER')),
    ).toMatch(/^did not complete a TLS handshake/);
  });

  it('Redis not answering yet is not a refusal: the clients keep retrying', () => {
    expect(redisRefusal(error('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'))).toBeUndefined();
    expect(redisRefusal(error('connect ETIMEDOUT', 'ETIMEDOUT'))).toBeUndefined();
    expect(redisRefusal(error('read ECONNRESET', 'ECONNRESET'))).toBeUndefined();
    expect(redisRefusal(error('LOADING Redis is loading the dataset in memory'))).toBeUndefined();
  });
});
