;;;; Test clients: a small HTTP/1.1 client over sb-bsd-sockets, a raw TCP
;;;; exchange, python3 for many concurrent clients, and server fixtures.

(in-package #:c10k/tests)

(eval-when (:compile-toplevel :load-toplevel :execute)
  (require :sb-bsd-sockets))

(defun connect (port)
  "A binary stream to 127.0.0.1:PORT, and its socket."
  (let ((socket (make-instance 'sb-bsd-sockets:inet-socket :type :stream :protocol :tcp)))
    (sb-bsd-sockets:socket-connect socket #(127 0 0 1) port)
    (values (sb-bsd-sockets:socket-make-stream socket :input t :output t
                                                      :element-type '(unsigned-byte 8)
                                                      :buffering :full)
            socket)))

(defun octets (string)
  (babel:string-to-octets string :encoding :utf-8))

(defun read-all (stream)
  "Every byte STREAM gives until EOF (the server closes: Connection: close)."
  (let ((out (make-array 0 :element-type '(unsigned-byte 8) :adjustable t :fill-pointer 0)))
    (loop for byte = (read-byte stream nil)
          while byte
          do (vector-push-extend byte out))
    (coerce out '(simple-array (unsigned-byte 8) (*)))))

(defun parse-response (bytes)
  "Status, header alist (names downcased) and body string of a response."
  (let* ((text (babel:octets-to-string bytes :encoding :latin-1))
         (head-end (search (format nil "~C~C~C~C" #\Return #\Newline #\Return #\Newline) text))
         (lines (split-lines (subseq text 0 head-end)))
         (status (parse-integer (first lines) :start 9 :end 12)))
    (values status
            (loop for line in (rest lines)
                  for colon = (position #\: line)
                  collect (cons (string-downcase (subseq line 0 colon))
                                (string-trim " " (subseq line (1+ colon)))))
            (babel:octets-to-string bytes :start (+ head-end 4) :encoding :utf-8))))

(defun split-lines (text)
  (loop with start = 0
        for end = (search (format nil "~C~C" #\Return #\Newline) text :start2 start)
        collect (subseq text start end)
        while end
        do (setf start (+ end 2))))

(defun http (port method path &key headers body)
  "Sends one request with Connection: close to 127.0.0.1:PORT and returns the
status, the header alist and the body string."
  (multiple-value-bind (stream socket) (connect port)
    (unwind-protect
         (let ((body (and body (octets body))))
           (write-sequence
            (octets (format nil "~A ~A HTTP/1.1~C~CHost: test~C~CConnection: close~C~C~
                                 ~:{~A: ~A~C~C~}~@[Content-Length: ~D~C~C~]~C~C"
                            method path #\Return #\Newline #\Return #\Newline #\Return #\Newline
                            (mapcar (lambda (h) (list (car h) (cdr h) #\Return #\Newline)) headers)
                            (and body (length body)) #\Return #\Newline
                            #\Return #\Newline))
            stream)
           (when body (write-sequence body stream))
           (finish-output stream)
           (parse-response (read-all stream)))
      (sb-bsd-sockets:socket-close socket))))

(defun header (name headers)
  (cdr (assoc name headers :test #'string-equal)))

(defun run-python (script &rest arguments)
  "Runs tests/SCRIPT with the test venv's python (C10K_TEST_PYTHON, which
test.sh sets; else python3) and returns its standard output and exit code."
  (let* ((path (asdf:system-relative-pathname "c10k/tests" (format nil "tests/~A" script)))
         (output (make-string-output-stream))
         (python (or (uiop:getenv "C10K_TEST_PYTHON") "python3"))
         (process (sb-ext:run-program python (mapcar #'princ-to-string
                                                     (cons (namestring path) arguments))
                                      :search t :output output :error *error-output*)))
    (values (get-output-stream-string output) (sb-ext:process-exit-code process))))

(defmacro with-http-server ((server handler &rest options) &body body)
  "Runs BODY with SERVER serving HANDLER on a free port, stopped afterwards."
  `(let ((,server (c10k:start-http-server :port 0 :handler ,handler ,@options)))
     (unwind-protect (progn ,@body)
       (c10k:stop-server ,server))))

(defun hello-handler (request)
  "The routes of examples/hello.lisp."
  (let ((method (c10k:request-method request))
        (path (c10k:request-path request)))
    (cond ((and (eq method :get) (string= path "/"))
           (values 200 '(("content-type" . "text/plain")) "Hello, World!"))
          ((and (eq method :post) (string= path "/echo"))
           (values 200 '(("content-type" . "application/octet-stream"))
                   (c10k:request-body request)))
          (t (values 404 '(("content-type" . "text/plain")) "Not Found")))))

(defun quietly-eval (form)
  "Evaluates FORM (a redefinition) without SBCL's redefinition warning."
  (handler-bind ((warning #'muffle-warning))
    (eval form)))
