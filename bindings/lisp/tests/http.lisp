;;;; HTTP handlers over real sockets: routes, request fields, response
;;;; bodies, and handlers that fail.

(in-package #:c10k/tests)

(in-suite c10k)

(test hello
  (with-http-server (server #'hello-handler)
    (multiple-value-bind (status headers body) (http (c10k:server-port server) "GET" "/")
      (is (= 200 status))
      (is (string= "Hello, World!" body))
      (is (string= "text/plain" (header "content-type" headers)))
      (is (string= "13" (header "content-length" headers))))))

(test echo-body
  (with-http-server (server #'hello-handler)
    (let ((text (format nil "héllo ~A" (make-string 70000 :initial-element #\x))))
      (multiple-value-bind (status headers body)
          (http (c10k:server-port server) "POST" "/echo" :body text)
        (declare (ignore headers))
        (is (= 200 status))
        (is (string= text body))))))

(test not-found
  (with-http-server (server #'hello-handler)
    (is (= 404 (http (c10k:server-port server) "GET" "/nothing-here")))
    (is (= 404 (http (c10k:server-port server) "GET" "/echo")))))

(test request-fields
  (let (seen)
    (with-http-server (server (lambda (request)
                                (setf seen (list (c10k:request-method request)
                                                 (c10k:request-path request)
                                                 (c10k:request-query request)
                                                 (c10k:request-header request "x-TEST")
                                                 (c10k:request-header request :host)
                                                 (c10k:request-header request "absent")
                                                 (c10k:request-body-string request)
                                                 (c10k:request-peer request)
                                                 (c10k:request-http-minor request)
                                                 (assoc "X-Test" (c10k:request-headers request)
                                                        :test #'string=)))
                                (values 204 nil nil)))
      (is (= 204 (http (c10k:server-port server) "PUT" "/a%20b?x=1+2&y=%C3%A9"
                       :headers '(("X-Test" . "yes")) :body "ünïcode"))))
    (destructuring-bind (method path query x-test host absent body peer minor pair) seen
      (is (eq :put method))
      (is (string= "/a%20b" path))
      (is (string= "x=1+2&y=%C3%A9" query))
      (is (string= "yes" x-test))
      (is (string= "test" host))
      (is (null absent))
      (is (string= "ünïcode" body))
      (is (alexandria:starts-with-subseq "127.0.0.1:" peer))
      (is (= 1 minor))
      (is (equal '("X-Test" . "yes") pair)))
    (is (string= "/a b" (c10k:url-decode "/a%20b")))
    (is (string= "x=1 2&y=é" (c10k:url-decode "x=1+2&y=%C3%A9" :plus-as-space t)))
    (signals c10k:c10k-error (c10k:url-decode "%zz"))))

(test response-headers-and-bodies
  (let ((file (uiop:with-temporary-file (:stream s :pathname p :keep t :direction :output)
                (write-string "from a file" s)
                p)))
    (unwind-protect
         (with-http-server (server
                            (lambda (request)
                              (let ((path (c10k:request-path request)))
                                (cond ((string= path "/octets")
                                       (values 201 '(("x-one" . "1") (:x-two . 2))
                                               (make-array 3 :element-type '(unsigned-byte 8)
                                                             :initial-contents '(65 66 67))))
                                      ((string= path "/file") (values 200 nil file))
                                      ((string= path "/missing")
                                       (values 200 nil #p"/nonexistent/c10k-test"))
                                      (t (values 200 '(("content-type" . "text/plain; charset=utf-8"))
                                                 "crème brûlée"))))))
           (let ((port (c10k:server-port server)))
             (multiple-value-bind (status headers body) (http port "GET" "/octets")
               (is (= 201 status))
               (is (string= "ABC" body))
               (is (string= "1" (header "x-one" headers)))
               (is (string= "2" (header "x-two" headers))))
             (multiple-value-bind (status headers body) (http port "GET" "/file")
               (declare (ignore headers))
               (is (= 200 status))
               (is (string= "from a file" body)))
             (is (= 404 (http port "GET" "/missing")))
             (multiple-value-bind (status headers body) (http port "GET" "/text")
               (is (= 200 status))
               (is (string= "crème brûlée" body))
               (is (string= "15" (header "content-length" headers))))))
      (delete-file file))))

(test handler-error-gives-500-and-keeps-serving
  (let ((*error-output* (make-broadcast-stream)))
    (with-http-server (server (lambda (request)
                                (if (string= (c10k:request-path request) "/boom")
                                    (error "kaboom")
                                    (hello-handler request))))
      (let ((port (c10k:server-port server)))
        (is (= 500 (http port "GET" "/boom")))
        (is (= 200 (http port "GET" "/")))
        (is (= 500 (http port "GET" "/boom")))
        (is (= 200 (http port "GET" "/")))))))

(test handler-errors-are-reported
  (let* ((log (make-string-output-stream))
         (server (let ((*error-output* log))
                   (c10k:start-http-server
                    :port 0 :handler (lambda (request)
                                       (declare (ignore request))
                                       (error "kaboom ~D" 42))))))
    (unwind-protect
         (let ((port (c10k:server-port server)))
           (is (= 500 (http port "GET" "/first")))
           (is (= 500 (http port "GET" "/second"))))
      (c10k:stop-server server))
    (let ((text (get-output-stream-string log)))
      (is (search "kaboom 42" text))
      (is (search "GET /first" text))
      (is (search "GET /second" text)))))

(test bad-handler-values-give-500
  (let ((*error-output* (make-broadcast-stream)))
    (with-http-server (server (lambda (request)
                                (if (string= (c10k:request-path request) "/no-status")
                                    nil
                                    (values 200 `(("x-bad" . ,(format nil "a~%b"))) ""))))
      (let ((port (c10k:server-port server)))
        (is (= 500 (http port "GET" "/no-status")))
        (is (= 500 (http port "GET" "/bad-header")))))))

(test request-outlives-its-handler-only-where-read
  (let (kept)
    (with-http-server (server (lambda (request)
                                (c10k:request-path request)
                                (setf kept request)
                                (values 200 nil "ok")))
      (is (= 200 (http (c10k:server-port server) "GET" "/kept"))))
    (is (string= "/kept" (c10k:request-path kept)))
    (signals error (c10k:request-body kept))))

(test request-without-query-or-body
  (let (seen)
    (with-http-server (server (lambda (request)
                                (setf seen (list (c10k:request-query request)
                                                 (length (c10k:request-body request))
                                                 (c10k:request-target request)
                                                 (c10k:request-keep-alive-p request)))
                                (values 200 nil "")))
      (is (= 200 (http (c10k:server-port server) "GET" "/plain"))))
    (is (equal '(nil 0 "/plain" nil) seen) "query, body length, target, keep-alive: ~S" seen)))
